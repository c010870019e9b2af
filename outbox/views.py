"""The outbox pages: the installation's (administrators) and the shared parts of every page
that lists messages (a meeting's outbox, a summary's deliveries)."""

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from outbox.forms import ResendForm
from outbox.models import Message
from outbox.selectors import outbox_backlog, outbox_list
from outbox.services import outbox_resend

FRAGMENT = "outbox/_messages.html"


def _page_number(request) -> int:
    try:
        return int(request.GET.get("page", 1))
    except ValueError:
        return 1


def outbox_context(
    request,
    *,
    messages: QuerySet[Message],
    url: str,
    resend_url: str,
    kind: str = "",
    next_url: str = "",
    poll: bool = True,
) -> dict:
    """What `outbox/_messages.html` needs: a page of messages and where its buttons go."""
    listing = outbox_list(
        messages=messages.filter(kind=kind) if kind else messages,
        status=request.GET.get("status", ""),
        page=_page_number(request),
    )
    query = []
    if listing.status:
        query.append(f"status={listing.status}")
    if listing.page > 1:
        query.append(f"page={listing.page}")
    return {
        "outbox": listing,
        "outbox_base_url": url,
        "outbox_url": url + ("?" + "&".join(query) if query else ""),
        "outbox_resend_url": resend_url,
        "outbox_kind": kind,
        "outbox_next": next_url or url,
        "outbox_poll": poll,
    }


def outbox_response(request, template: str, context: dict) -> HttpResponse:
    """The whole page, or for htmx the list alone; polling stops once nothing is on its way."""
    if not request.htmx:
        return render(request, template, context)
    response = render(request, FRAGMENT, context)
    if not context["outbox"].in_flight:
        return HttpResponseStopPolling(response.content)
    return response


def outbox_resend_response(request, *, messages: QuerySet[Message], fallback: str):
    """Apply a resend button to `messages`, say what happened, and go back."""
    form = ResendForm(request.POST)
    if not form.is_valid():
        flash.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(fallback)
    count = outbox_resend(
        messages=messages,
        which=form.cleaned_data["which"],
        code=form.cleaned_data["message"],
        kind=form.cleaned_data["kind"],
    )
    if form.cleaned_data["which"] == "waiting":
        text = ngettext(
            "%(count)s waiting message goes now.", "%(count)s waiting messages go now.", count
        )
    elif form.cleaned_data["which"] == "stuck":
        text = ngettext(
            "%(count)s stuck message is on its way again.",
            "%(count)s stuck messages are on their way again.",
            count,
        )
    else:
        text = ngettext(
            "%(count)s message is queued again.", "%(count)s messages are queued again.", count
        )
    flash.success(request, text % {"count": count})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return redirect(target)


def _require_admin(request) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied


@login_required
def installation(request):
    """Every message of the installation, for administrators."""
    _require_admin(request)
    context = outbox_context(
        request,
        messages=Message.objects.all(),
        url=reverse("outbox:installation"),
        resend_url=reverse("outbox:resend"),
    )
    if not request.htmx:
        context["backlog"] = outbox_backlog()
        context["rate"] = settings.MAIL_RATE_PER_MINUTE
    context["outbox_title"] = _("All messages")
    return outbox_response(request, "outbox/installation.html", context)


@login_required
@require_POST
def resend(request):
    _require_admin(request)
    return outbox_resend_response(
        request, messages=Message.objects.all(), fallback=reverse("outbox:installation")
    )
