# The old goal tables, copied by 0004 into `groups` and `topics`.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("insights", "0004_strategy_goals_moved"),
    ]

    operations = [
        # The constraint names the group: it goes first, so that going back recreates
        # the table before the constraint.
        migrations.RemoveConstraint(
            model_name="strategygoal",
            name="goal_title_unique_in_group",
        ),
        migrations.RemoveField(
            model_name="strategygoal",
            name="topics",
        ),
        migrations.RemoveField(
            model_name="strategygoal",
            name="group",
        ),
        migrations.DeleteModel(
            name="GoalTag",
        ),
        migrations.DeleteModel(
            name="StrategyGoal",
        ),
    ]
