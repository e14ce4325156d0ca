from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_moderators_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="count",
            field=models.PositiveIntegerField(default=1),
        ),
    ]
