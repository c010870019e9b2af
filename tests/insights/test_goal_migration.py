"""The data migration: strategy goals move from `insights` to `groups`, their post-it
tags to `topics`, with the same codes (links keep working) and nothing lost.

The database is taken back to the schema before the move, filled through that
schema's own models, and migrated forward.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from groups.models import StrategyGoal
from topics.models import Topic

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("insights", "0003_strategy_goals_micro_projects"),
    ("topics", "0005_lane_and_raised_again"),
    ("groups", "0006_it_perspective_recipients"),
]
AFTER = [
    ("insights", "0005_strategy_goals_old_tables"),
    ("topics", "0006_strategy_goals"),
    ("groups", "0007_strategy_goals"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    moved = {app for app, _name in targets}
    others = [node for node in executor.loader.graph.leaf_nodes() if node[0] not in moved]
    return executor.loader.project_state(others + targets).apps


@pytest.fixture
def old_schema():
    apps = _migrate(BEFORE)
    yield apps
    _migrate(AFTER)


def test_goals_and_their_tags_move_with_their_codes(old_schema):
    apps = old_schema
    Group = apps.get_model("groups", "Group")
    Department = apps.get_model("groups", "Department")
    Meeting = apps.get_model("meetings", "Meeting")
    OldTopic = apps.get_model("topics", "Topic")
    OldGoal = apps.get_model("insights", "StrategyGoal")
    OldTag = apps.get_model("insights", "GoalTag")

    group = Group.objects.create(name="Tvärgrupp IT", code="grp")
    hr = Department.objects.create(group=group, name="HR", short_name="HR", code="hr")
    start = timezone.now() - timedelta(days=30)
    meeting = Meeting.objects.create(
        group=group,
        code="mtg",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        submission_deadline=start - timedelta(days=2),
    )
    akuten = OldTopic.objects.create(
        meeting=meeting, department=hr, code="akuten", title="Bemanning av akuten"
    )
    webb = OldTopic.objects.create(meeting=meeting, department=hr, code="webb", title="Webben")
    processes = OldGoal.objects.create(
        group=group, code="processes", title="Enhetliga processer", position=1
    )
    data = OldGoal.objects.create(
        group=group, code="data", title="Data", description="Det vi redan har", position=0
    )
    OldTag.objects.create(goal=processes, topic=akuten)
    OldTag.objects.create(goal=data, topic=akuten)
    OldTag.objects.create(goal=data, topic=webb)

    _migrate(AFTER)

    goals = StrategyGoal.objects.order_by("position")
    assert [(g.code, g.title, g.description, g.position, g.archived) for g in goals] == [
        ("data", "Data", "Det vi redan har", 0, False),
        ("processes", "Enhetliga processer", "", 1, False),
    ]
    assert {g.group.code for g in goals} == {"grp"}
    tags = Topic.goals.through.objects.values_list("topic__code", "strategygoal__code")
    assert set(tags) == {("akuten", "processes"), ("akuten", "data"), ("webb", "data")}
