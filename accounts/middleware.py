from django.conf import settings
from django.utils import translation


class LanguageMiddleware:
    """Activate the person's preferred language, else the chosen one, else Swedish.

    A signed-in person's language is their profile setting; anyone else gets the
    language picked with the switch (a cookie) or the installation default. The
    browser's Accept-Language is deliberately ignored: the product is Swedish first.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.known = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        language = settings.LANGUAGE_CODE
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if cookie in self.known:
            language = cookie
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language in self.known:
            language = user.language
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
