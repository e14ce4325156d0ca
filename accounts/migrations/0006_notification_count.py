from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_username_skeletons_filled"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="count",
            field=models.PositiveIntegerField(default=1),
        ),
    ]
