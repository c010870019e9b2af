from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from groups.access import Role
from groups.models import Department
from meetings.models import Meeting
from topics.models import Topic, TopicStatus
from topics.services import COUNTED_STATUSES, Window, submission_window, topic_limit


@dataclass
class PostitPage:
    meeting: Meeting
    departments: list[Department]
    department: Department
    on_behalf: bool
    topics: list[Topic]
    topic: Topic | None
    window: Window
    limit: int
    can_add: bool


def writable_departments(*, user: User, meeting: Meeting) -> tuple[list[Department], bool]:
    """Departments the person may write post-its for, and whether on someone's behalf."""
    departments = meeting.group.departments.order_by("position", "name")
    if meeting.role >= Role.MODERATOR:
        return list(departments), True
    headed = list(departments.filter(heads=user))
    if not headed:
        raise PermissionDenied
    return headed, False


def postit_page(
    *, user: User, meeting: Meeting, department_code: str = "", topic_code: str = ""
) -> PostitPage:
    departments, moderating = writable_departments(user=user, meeting=meeting)
    if department_code:
        department = next((d for d in departments if d.code == department_code), None)
        if department is None:
            raise PermissionDenied
    else:
        department = departments[0] if departments else None
        if department is None:
            raise Http404
    heads_this = department.heads.filter(pk=user.pk).exists()
    topics = list(
        Topic.objects.filter(meeting=meeting, department=department, status__in=COUNTED_STATUSES)
        .select_related("author", "entered_by")
        .order_by("created_at")
    )
    if topic_code == "new":
        topic = None
    elif topic_code:
        topic = next((t for t in topics if t.code == topic_code), None)
        if topic is None:
            raise Http404
    else:
        topic = topics[0] if topics else None
    limit = topic_limit(meeting=meeting)
    window = submission_window(meeting=meeting, department=department, now=timezone.now())
    return PostitPage(
        meeting=meeting,
        departments=departments,
        department=department,
        on_behalf=moderating and not heads_this,
        topics=topics,
        topic=topic,
        window=window,
        limit=limit,
        can_add=window.open and len(topics) < limit,
    )


@dataclass
class IntakeRow:
    department: Department
    submitted: list[Topic]
    drafts: list[Topic]

    @property
    def state(self) -> str:
        if self.submitted:
            return "submitted"
        return "draft" if self.drafts else "nothing"


def intake_rows(*, meeting: Meeting) -> list[IntakeRow]:
    """Per department: submitted post-its and drafts (times only; drafts stay private)."""
    departments = list(meeting.group.departments.prefetch_related("heads"))
    topics = Topic.objects.filter(meeting=meeting, status__in=COUNTED_STATUSES).select_related(
        "author", "entered_by"
    )
    rows = {d.pk: IntakeRow(department=d, submitted=[], drafts=[]) for d in departments}
    for topic in topics.order_by("created_at"):
        row = rows.get(topic.department_id)
        if row is None:
            continue
        (row.submitted if topic.status == TopicStatus.SUBMITTED else row.drafts).append(topic)
    return list(rows.values())
