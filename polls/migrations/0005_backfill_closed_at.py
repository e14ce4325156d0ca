"""Polls closed before closed_at existed: their last change is the best record of when they closed."""

from django.db import migrations
from django.db.models import F


def backfill_closed_at(apps, schema_editor):
    Poll = apps.get_model("polls", "Poll")
    Poll.objects.filter(is_active=False, closed_at__isnull=True).update(closed_at=F("updated_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0004_personal_data_retention"),
    ]

    operations = [
        migrations.RunPython(backfill_closed_at, migrations.RunPython.noop),
    ]
