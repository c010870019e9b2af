"""Factories with no surprises: every object is complete and valid on its own."""

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import User
from groups.models import BoardColour, Department, Group, StrategyGoal
from meetings.models import Attendance, Meeting, MeetingStatus
from summaries.models import Summary
from topics.models import Contribution, FollowUp, Topic, TopicLink, TopicStatus


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.se")
    full_name = factory.Sequence(lambda n: f"Person Nummer{n}")
    language = "sv"
    password = factory.django.Password("secret-password-1")


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Tvärgrupp {n}")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    group = factory.SubFactory(GroupFactory)
    name = factory.Sequence(lambda n: f"Avdelning {n}")
    short_name = factory.Sequence(lambda n: f"A{n}")
    colour = BoardColour.SKY


class StrategyGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StrategyGoal

    group = factory.SubFactory(GroupFactory)
    title = factory.Sequence(lambda n: f"Strategiskt mål {n}")
    position = factory.Sequence(lambda n: n)


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    group = factory.SubFactory(GroupFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=10))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=1))
    submission_deadline = factory.LazyAttribute(lambda o: o.starts_at - timedelta(days=2))
    location = "Rum Ljuset"
    status = MeetingStatus.OPEN


class AttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendance

    meeting = factory.SubFactory(MeetingFactory)
    user = factory.SubFactory(UserFactory)


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    meeting = factory.SubFactory(MeetingFactory)
    department = factory.SubFactory(
        DepartmentFactory, group=factory.SelfAttribute("..meeting.group")
    )
    author = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Utmaning {n}")
    background = "Bakgrund"
    current_state = "Nuläge"
    goal = "Mål"
    obstacle = "Hinder"
    status = TopicStatus.SUBMITTED
    submitted_at = factory.LazyFunction(timezone.now)


class ContributionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contribution

    topic = factory.SubFactory(TopicFactory)
    author = factory.SubFactory(UserFactory)
    department = factory.SelfAttribute("topic.department")
    text = factory.Sequence(lambda n: f"Idé nummer {n}")


class TopicLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TopicLink

    from_topic = factory.SubFactory(TopicFactory)
    to_topic = factory.SubFactory(
        TopicFactory, meeting=factory.SelfAttribute("..from_topic.meeting")
    )


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    meeting = factory.SubFactory(MeetingFactory)
    title = factory.Sequence(lambda n: f"Uppföljning {n}")
    owner = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))


class SummaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Summary

    meeting = factory.SubFactory(MeetingFactory)
