from django.conf import settings
from django.http import Http404
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


# allauth's URLs for each way of signing in that an installation can turn off.
_PASSWORD_URLS = {
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "account_confirm_password_reset_code",
    "account_complete_password_reset",
    "account_password_reset_completed",
    "account_set_password",
    "account_change_password",
}
_EMAIL_CODE_URLS = {"account_request_login_code", "account_confirm_login_code"}


class SignInMethodsMiddleware:
    """Answer 404 for the pages of a way of signing in the installation turned off."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        name = request.resolver_match.url_name if request.resolver_match else None
        if (name in _PASSWORD_URLS and not settings.SIGNIN_PASSWORD) or (
            name in _EMAIL_CODE_URLS and not settings.SIGNIN_EMAIL_CODE
        ):
            raise Http404
        return None
