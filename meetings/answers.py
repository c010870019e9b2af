"""The two answer links in a meeting invitation: "Jag kommer" / "Jag kommer inte".

A link is signed (it cannot be made up or altered) and names the attendance,
the answer and the attendance's `response_version` it was made for: once the
person has answered, by this link or any other way, the version has moved on
and the link is used. It needs no sign-in, and works until the meeting ends
(checked when it is used, so a moved meeting moves the limit too).
"""

from dataclasses import dataclass

from django.core import signing
from django.urls import reverse

from meetings.models import Attendance, AttendanceStatus

SALT = "meetings.answer"
ANSWERS = {"yes": AttendanceStatus.ACCEPTED, "no": AttendanceStatus.DECLINED}


class BadAnswerLink(Exception):
    """The link was not made by us, or was changed."""


@dataclass(frozen=True)
class AnswerLink:
    attendance_id: int
    version: int
    answer: str  # an AttendanceStatus: accepted or declined


def answer_url(attendance: Attendance, answer: str) -> str:
    """The path of a signed answer link; `answer` is "yes" or "no"."""
    token = signing.dumps(
        [attendance.pk, attendance.response_version, answer], salt=SALT, compress=True
    )
    return reverse("meetings:answer", args=[token])


def answer_link_read(token: str) -> AnswerLink:
    try:
        attendance_id, version, answer = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise BadAnswerLink(str(error)) from error
    if answer not in ANSWERS or not isinstance(attendance_id, int):
        raise BadAnswerLink("unknown answer")
    return AnswerLink(attendance_id=attendance_id, version=version, answer=ANSWERS[answer])
