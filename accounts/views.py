from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import LanguageForm, ProfileForm
from accounts.services import user_reset_calendar_token, user_set_language, user_update_profile


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            user_update_profile(user=request.user, **form.cleaned_data)
            translation.activate(request.user.language)
            messages.success(request, _("Your profile has been saved."))
            return redirect("accounts:profile")
        return render(request, "accounts/profile.html", _profile_context(request, form), status=400)
    return render(request, "accounts/profile.html", _profile_context(request, form))


def _profile_context(request, form) -> dict:
    feed = reverse("meetings:calendar_feed", args=[request.user.calendar_token])
    return {"form": form, "feed_url": settings.SITE_URL + feed}


@login_required
@require_POST
def calendar_reset(request):
    user_reset_calendar_token(user=request.user)
    messages.success(
        request,
        _(
            "Your calendar feed has a new address. "
            "Subscribe to it again; the old one no longer works."
        ),
    )
    return redirect("accounts:profile")


@require_POST
def language_set(request):
    """Switch the interface language; remembered on the profile and in a cookie."""
    form = LanguageForm(request.POST)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = redirect(next_url)
    if not form.is_valid():
        return response
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response
