from django.conf import settings
from django.utils import translation


def without_user_language(view):
    """Mark a view that must not touch the session (the board's one-query poll)."""
    view.without_user_language = True
    return view


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
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "without_user_language", False):
            return None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language in self.known:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return None
