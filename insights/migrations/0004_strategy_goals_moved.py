# Strategy goals move down to the apps they belong to: the goal list to `groups`
# (a group's list), the tags to `topics` (post-its, solutions and micro-projects
# carry them). The rows are copied with their codes, so links stay; then the old
# tables go (0005, in a transaction of its own).

from django.db import migrations


def copy_goals(apps, schema_editor):
    OldGoal = apps.get_model("insights", "StrategyGoal")
    OldTag = apps.get_model("insights", "GoalTag")
    Goal = apps.get_model("groups", "StrategyGoal")
    Topic = apps.get_model("topics", "Topic")
    moved = {}
    for old in OldGoal.objects.order_by("pk"):
        goal = Goal.objects.create(
            group_id=old.group_id,
            code=old.code,
            title=old.title,
            description=old.description,
            position=old.position,
        )
        Goal.objects.filter(pk=goal.pk).update(
            created_at=old.created_at, updated_at=old.updated_at
        )
        moved[old.pk] = goal.pk
    Tag = Topic.goals.through
    Tag.objects.bulk_create(
        [
            Tag(topic_id=topic_id, strategygoal_id=moved[goal_id])
            for topic_id, goal_id in OldTag.objects.values_list("topic_id", "goal_id")
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("insights", "0003_strategy_goals_micro_projects"),
        ("groups", "0007_strategy_goals"),
        ("topics", "0006_strategy_goals"),
    ]

    operations = [
        migrations.RunPython(copy_goals, migrations.RunPython.noop),
    ]
