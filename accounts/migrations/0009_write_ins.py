"""Audit entries for suggested options accepted or rejected by a moderator, and the author's notice of a suggestion."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_moderators_read_audit_log"),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('poll_held', 'Poll put on hold'), ('hold_lifted', 'Hold lifted'), ('poll_closed', 'Poll closed'), ('poll_reopened', 'Poll reopened'), ('poll_edited', 'Poll edited'), ('poll_deleted', 'Poll deleted'), ('options_removed', 'Options removed'), ('ballots_voided', 'Ballots voided'), ('votes_removed', 'Votes removed'), ('likes_removed', 'Likes removed'), ('reports_handled', 'Reports handled'), ('write_in_accepted', 'Suggested option accepted'), ('write_in_rejected', 'Suggested option rejected'), ('users_deactivated', 'Users deactivated'), ('user_changed', 'User changed'), ('user_deleted', 'User deleted')], max_length=30),
        ),
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('vote', 'Someone voted on your poll'), ('like', 'Someone liked your poll'), ('report', 'Someone reported your poll'), ('poll_closed', 'Your poll closed'), ('poll_held', 'Moderators put your poll on hold'), ('hold_lifted', 'Moderators lifted the hold on your poll'), ('write_in', 'Someone suggested an option for your poll')], max_length=20),
        ),
    ]
