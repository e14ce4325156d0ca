from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0003_invites"),
    ]

    operations = [
        migrations.AddField(
            model_name="poll",
            name="closed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="poll",
            name="personal_data_cleared_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
