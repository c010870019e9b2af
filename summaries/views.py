from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseStopPolling

from groups.access import Action, Role
from meetings.selectors import meeting_get_for_user
from outbox.views import outbox_context
from summaries.forms import ITPerspectiveSendForm, SummaryForm
from summaries.messages import SUMMARY_KIND
from summaries.models import Summary, SummaryStatus
from summaries.selectors import (
    it_perspective_messages,
    it_perspective_recipients,
    summary_document,
    summary_messages,
    summary_recipients,
)
from summaries.services import (
    it_perspective_send,
    meeting_close,
    summary_request_pdf,
    summary_send,
    summary_set_recipient,
    summary_update,
)


def _summary(meeting) -> Summary:
    summary = Summary.objects.filter(meeting=meeting).first()
    if summary is None:
        raise Http404
    summary.meeting = meeting
    return summary


@login_required
@require_http_methods(["GET", "POST"])
def close(request, code: str):
    """Closing asks first; it ends the meeting and opens the summary's draft."""
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    if request.method == "POST":
        try:
            meeting_close(meeting=meeting)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(meeting)
        messages.success(request, _("The meeting is closed. Its summary is ready for review."))
        return redirect("summaries:review", code=meeting.code)
    return render(request, "summaries/close.html", {"meeting": meeting})


def _review_context(request, meeting, summary, form=None, page=None):
    page = page or summary_document(meeting=meeting)
    recipients = summary_recipients(summary=summary, include_excluded=True)
    excluded = {e.lower() for e in summary.excluded}
    if form is None:
        form = SummaryForm(instance=summary, topics=page.topics)
    return {
        "meeting": meeting,
        "summary": summary,
        "page": page,
        "form": form,
        "recipients": recipients,
        "excluded": excluded,
        "recipient_count": sum(1 for r in recipients if r.email not in excluded),
        **_deliveries_context(request, meeting, summary),
    }


def _deliveries_context(request, meeting, summary) -> dict:
    """The summary's messages as the outbox lists them; the section itself polls."""
    if summary.status == SummaryStatus.DRAFT:
        return {"outbox": None}
    context = outbox_context(
        request,
        messages=summary_messages(summary=summary),
        url=reverse("summaries:deliveries", args=[meeting.code]),
        resend_url=reverse("meetings:outbox_resend", args=[meeting.code]),
        kind=SUMMARY_KIND,
        next_url=reverse("summaries:review", args=[meeting.code]),
        poll=False,
    )
    context["outbox_title"] = _("Deliveries")
    return context


@login_required
@require_http_methods(["GET", "POST"])
def review(request, code: str):
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    summary = _summary(meeting)
    if request.method == "POST" and summary.status == SummaryStatus.DRAFT:
        action = request.POST.get("action", "save")
        page = summary_document(meeting=meeting)
        form = SummaryForm(request.POST, instance=summary, topics=page.topics)
        if form.is_valid():
            try:
                summary = summary_update(
                    summary=summary,
                    intro=form.cleaned_data["intro"],
                    topic_summaries=form.topic_summaries(),
                    extra_recipients=form.cleaned_data["extra_recipients"],
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                if action in ("include", "exclude"):
                    # What was typed is saved first, then the recipient changes.
                    summary_set_recipient(
                        summary=summary,
                        email=request.GET.get("email", ""),
                        include=action == "include",
                    )
                    return redirect("summaries:review", code=meeting.code)
                if action == "preview":
                    summary_request_pdf(summary=summary)
                    messages.info(request, _("The PDF is being made; the link appears here."))
                elif action == "send":
                    return redirect("summaries:send", code=meeting.code)
                else:
                    messages.success(request, _("The summary is saved."))
                return redirect("summaries:review", code=meeting.code)
        summary.refresh_from_db()
        return render(
            request,
            "summaries/review.html",
            _review_context(request, meeting, summary, form, page),
            status=400,
        )
    return render(request, "summaries/review.html", _review_context(request, meeting, summary))


@login_required
@require_http_methods(["GET", "POST"])
def send(request, code: str):
    """Sending asks for confirmation, showing the count."""
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    summary = _summary(meeting)
    if request.method == "POST":
        try:
            summary_send(summary=summary, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The summary is on its way."))
        return redirect("summaries:review", code=meeting.code)
    recipients = summary_recipients(summary=summary)
    return render(
        request,
        "summaries/send.html",
        {"meeting": meeting, "summary": summary, "recipients": recipients},
    )


@login_required
def deliveries(request, code: str):
    """The PDF's state and the deliveries, polled by htmx while anything is on its way."""
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    summary = _summary(meeting)
    context = {
        "meeting": meeting,
        "summary": summary,
        **_deliveries_context(request, meeting, summary),
    }
    response = render(request, "summaries/review.html#deliveries", context)
    if (
        request.htmx
        and summary.status != SummaryStatus.SENDING
        and not context["outbox"].in_flight
        and summary.pdf_version == summary.content_version
    ):
        return HttpResponseStopPolling(response.content)
    return response


def _may_download(request, meeting, summary) -> bool:
    if meeting.role >= Role.MODERATOR:
        return True
    if summary.status == SummaryStatus.DRAFT:
        return False
    return (
        meeting.attendances.filter(user=request.user).exists()
        or request.user.headed_departments.filter(group=meeting.group_id).exists()
    )


@login_required
def pdf(request, code: str):
    """The summary's PDF for the meeting's participants; nobody else."""
    meeting = meeting_get_for_user(user=request.user, code=code)
    summary = _summary(meeting)
    if not _may_download(request, meeting, summary):
        raise PermissionDenied
    if not summary.pdf or summary.pdf_version != summary.content_version:
        # Never a dead end: the PDF is made now, and the page fetches it when it is there.
        summary_request_pdf(summary=summary, again=not request.htmx)
        if request.htmx:
            return HttpResponse(status=204)  # not yet; htmx asks again
        return render(request, "summaries/pdf_wait.html", {"meeting": meeting}, status=202)
    if request.htmx:  # the waiting page asked: it shows the link now
        return render(
            request, "summaries/pdf_wait.html#pdf-status", {"meeting": meeting, "ready": True}
        )
    date = timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d")
    return FileResponse(
        summary.pdf.open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"sammanfattning-{date}.pdf",
    )


@login_required
@require_http_methods(["GET", "POST"])
def it_send(request, code: str):
    """E-mail the IT perspective with its PDF: who gets it, more addresses, then send."""
    meeting = meeting_get_for_user(user=request.user, code=code, action=Action.MODERATE)
    form = ITPerspectiveSendForm(
        request.POST or None,
        initial={"extra_recipients": meeting.group.it_perspective_recipients},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                sent = it_perspective_send(
                    meeting=meeting,
                    by=request.user,
                    role=meeting.role,
                    extra_recipients=form.cleaned_data["extra_recipients"],
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("The IT perspective is on its way to %(count)s recipients.")
                    % {"count": len(sent)},
                )
                return redirect("summaries:it_send", code=meeting.code)
        status = 400
    context = {
        "meeting": meeting,
        "form": form,
        "recipients": it_perspective_recipients(meeting=meeting),
        "sent": list(it_perspective_messages(meeting=meeting)[:50]),
    }
    return render(request, "summaries/it_send.html", context, status=status)
