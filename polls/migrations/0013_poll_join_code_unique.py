"""Every poll has its join code now (0012): from here on each is unique and given at creation."""

from django.db import migrations, models

import polls.join_codes


class Migration(migrations.Migration):
    # Apart from 0012: PostgreSQL will not alter a table in the transaction that just rewrote its rows.

    dependencies = [
        ("polls", "0012_live_room"),
    ]

    operations = [
        migrations.AlterField(
            model_name="poll",
            name="join_code",
            field=models.CharField(default=polls.join_codes.poll_code, editable=False, max_length=8, unique=True),
        ),
    ]
