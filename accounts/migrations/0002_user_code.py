# A unique opaque code for every person, filled in for existing rows.

from django.db import migrations, models

import tvargrupp.models


def fill_codes(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    taken = set()
    for user in User.objects.filter(code__isnull=True).only("pk"):
        code = tvargrupp.models.new_code()
        while code in taken:
            code = tvargrupp.models.new_code()
        taken.add(code)
        User.objects.filter(pk=user.pk).update(code=code)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="code",
            field=models.CharField(editable=False, max_length=16, null=True, verbose_name="code"),
        ),
        migrations.RunPython(fill_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="code",
            field=models.CharField(
                default=tvargrupp.models.new_code,
                editable=False,
                max_length=16,
                unique=True,
                verbose_name="code",
            ),
        ),
    ]
