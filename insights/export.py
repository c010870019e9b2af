"""Tables as files: CSV that Excel opens in Swedish, and a meeting's export (CSV and JSON).

One CSV writer for every table the app lets people download (the meeting export
here, the insights page's tables): UTF-8 with a byte-order mark so Excel reads
å, ä and ö; semicolons, which Excel expects where the decimal mark is a comma
(Swedish settings); and a cell that would start a formula (=, +, -, @) is
prefixed with an apostrophe so a spreadsheet shows it as text and never runs it.
"""

import csv
import io

from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from topics.selectors import MeetingPage

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(*, filename: str, header: list[str], rows) -> HttpResponse:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([_cell(h) for h in header])
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _name(user) -> str:
    return user.display_name if user else ""


def meeting_filename(page: MeetingPage, extension: str) -> str:
    day = timezone.localtime(page.meeting.starts_at).strftime("%Y-%m-%d")
    return f"tvargrupp-{day}-{page.meeting.code}.{extension}"


def meeting_csv(page: MeetingPage) -> HttpResponse:
    """One row per post-it, idea and follow-up; a column says which."""
    header = [
        _("Kind"),
        _("Post-it"),
        _("Department"),
        _("Title"),
        _("Background"),
        _("How it is now"),
        _("Where we want to go"),
        _("What stands in the way"),
        _("Text"),
        _("Who"),
        _("Owner"),
        _("Due date"),
        _("Status"),
        _("Created"),
    ]
    rows = []
    for topic in page.topics:
        rows.append(
            [
                _("Post-it"),
                topic.code,
                topic.department.name,
                topic.title,
                topic.background,
                topic.current_state,
                topic.goal,
                topic.obstacle,
                "",
                _name(topic.author),
                "",
                "",
                topic.get_status_display(),
                _when(topic.submitted_at or topic.created_at),
            ]
        )
        for idea in topic.contributions.all():
            rows.append(
                [
                    idea.get_kind_display(),
                    topic.code,
                    idea.department.name if idea.department else "",
                    topic.title,
                    "",
                    "",
                    "",
                    "",
                    idea.text,
                    _name(idea.author),
                    "",
                    "",
                    "",
                    _when(idea.created_at),
                ]
            )
    for follow_up in page.follow_ups:
        rows.append(
            [
                _("Follow-up"),
                follow_up.topic.code if follow_up.topic else "",
                follow_up.owner_department.name if follow_up.owner_department else "",
                follow_up.title,
                "",
                "",
                "",
                "",
                follow_up.outcome,
                "",
                _name(follow_up.owner),
                follow_up.due_date.isoformat() if follow_up.due_date else "",
                follow_up.get_status_display(),
                _when(follow_up.created_at),
            ]
        )
    return csv_response(filename=meeting_filename(page, "csv"), header=header, rows=rows)


def meeting_json(page: MeetingPage) -> JsonResponse:
    """The meeting's post-its with their ideas, and its follow-ups, as structured data."""
    meeting = page.meeting

    def person(user):
        return {"name": user.display_name, "email": user.email} if user else None

    data = {
        "meeting": {
            "code": meeting.code,
            "group": meeting.group.name,
            "starts_at": meeting.starts_at.isoformat(),
            "ends_at": meeting.ends_at.isoformat(),
            "location": meeting.location,
            "status": meeting.status,
        },
        "post_its": [
            {
                "code": topic.code,
                "department": topic.department.name,
                "author": person(topic.author),
                "title": topic.title,
                "background": topic.background,
                "current_state": topic.current_state,
                "goal": topic.goal,
                "obstacle": topic.obstacle,
                "status": topic.status,
                "submitted_at": topic.submitted_at.isoformat() if topic.submitted_at else None,
                "ideas": [
                    {
                        "kind": idea.kind,
                        "text": idea.text,
                        "author": person(idea.author),
                        "department": idea.department.name if idea.department else None,
                        "created_at": idea.created_at.isoformat(),
                    }
                    for idea in topic.contributions.all()
                ],
            }
            for topic in page.topics
        ],
        "follow_ups": [
            {
                "code": follow_up.code,
                "post_it": follow_up.topic.code if follow_up.topic else None,
                "title": follow_up.title,
                "owner": person(follow_up.owner),
                "owner_department": follow_up.owner_department.name
                if follow_up.owner_department
                else None,
                "due_date": follow_up.due_date.isoformat() if follow_up.due_date else None,
                "status": follow_up.status,
                "outcome": follow_up.outcome,
            }
            for follow_up in page.follow_ups
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{meeting_filename(page, "json")}"'
    return response
