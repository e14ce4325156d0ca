"""The live room: join codes, presenting, decks and open-text answers."""

import django.db.models.deletion
import polls.join_codes
import uuid
from django.conf import settings
from django.db import migrations, models


def give_polls_join_codes(apps, schema_editor):
    # One code per existing poll; the unique index added next checks them.
    Poll = apps.get_model("polls", "Poll")
    taken = set()
    for poll in Poll.objects.only("pk").iterator():
        code = polls.join_codes.poll_code()
        while code in taken:
            code = polls.join_codes.poll_code()
        taken.add(code)
        Poll.objects.filter(pk=poll.pk).update(join_code=code)


class Migration(migrations.Migration):

    dependencies = [
        ('polls', '0011_ballot_ranking'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Answer',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('text', models.CharField(max_length=200)),
                ('key', models.CharField(editable=False, max_length=200)),
                ('anon_id', models.CharField(blank=True, default='', max_length=64)),
                ('ip_address', models.GenericIPAddressField(blank=True, null=True)),
                ('hidden', models.BooleanField(default=False)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['created_at'],
            },
        ),
        migrations.CreateModel(
            name='Deck',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('title', models.CharField(max_length=200)),
                ('join_code', models.CharField(default=polls.join_codes.deck_code, editable=False, max_length=8, unique=True)),
                ('position', models.PositiveSmallIntegerField(default=0)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='DeckItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveSmallIntegerField()),
            ],
            options={
                'ordering': ['position'],
            },
        ),
        migrations.AddField(
            model_name='poll',
            name='answer_max_length',
            field=models.PositiveSmallIntegerField(default=60, help_text='Open-text polls: the longest answer.'),
        ),
        migrations.AddField(
            model_name='poll',
            name='answers_per_voter',
            field=models.PositiveSmallIntegerField(default=1, help_text='Open-text polls: answers one voter may give.'),
        ),
        migrations.AddField(
            model_name='poll',
            name='audience_results',
            field=models.CharField(choices=[('rule', "Follow the poll's rule"), ('shown', 'Shown to the audience'), ('hidden', 'Hidden from the audience')], default='rule', editable=False, max_length=10),
        ),
        migrations.AddField(
            model_name='poll',
            name='filter_profanity',
            field=models.BooleanField(default=True, help_text="Open-text polls: refuse answers with a word from the operator's list (PROFANITY_WORDS_FILE)."),
        ),
        migrations.AddField(
            model_name='poll',
            name='join_code',
            field=models.CharField(editable=False, max_length=8, null=True),
        ),
        migrations.RunPython(give_polls_join_codes, migrations.RunPython.noop),
        migrations.AddField(
            model_name='poll',
            name='presenting_since',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name='poll',
            name='method',
            field=models.CharField(choices=[('single', 'Single choice'), ('approval', 'Approval'), ('ranked', 'Ranked choice'), ('score', 'Score'), ('text', 'Open text')], default='single', max_length=10),
        ),
        migrations.AddConstraint(
            model_name='poll',
            constraint=models.CheckConstraint(condition=models.Q(('answer_max_length__gte', 1), ('answer_max_length__lte', 200), ('answers_per_voter__gte', 1), ('answers_per_voter__lte', 10)), name='poll_answer_limits'),
        ),
        migrations.AddField(
            model_name='answer',
            name='poll',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='answers', to='polls.poll'),
        ),
        migrations.AddField(
            model_name='answer',
            name='user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='answers', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='deck',
            name='author',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='decks', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='deckitem',
            name='deck',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='items', to='polls.deck'),
        ),
        migrations.AddField(
            model_name='deckitem',
            name='poll',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deck_items', to='polls.poll'),
        ),
        migrations.AddIndex(
            model_name='answer',
            index=models.Index(fields=['poll', 'key'], name='answer_poll_key_idx'),
        ),
        migrations.AddIndex(
            model_name='answer',
            index=models.Index(fields=['poll', 'user'], name='answer_poll_user_idx'),
        ),
        migrations.AddIndex(
            model_name='answer',
            index=models.Index(fields=['poll', 'anon_id'], name='answer_poll_anon_idx'),
        ),
        migrations.AddIndex(
            model_name='answer',
            index=models.Index(fields=['poll', 'ip_address'], name='answer_poll_ip_idx'),
        ),
        migrations.AddConstraint(
            model_name='answer',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('user__isnull', False), ('anon_id', '')), models.Q(('user__isnull', True), models.Q(('anon_id', ''), _negated=True)), _connector='OR'), name='answer_has_one_voter'),
        ),
        migrations.AddConstraint(
            model_name='deckitem',
            constraint=models.UniqueConstraint(fields=('deck', 'position'), name='deckitem_unique_position'),
        ),
        migrations.AddConstraint(
            model_name='deckitem',
            constraint=models.UniqueConstraint(fields=('deck', 'poll'), name='deckitem_one_per_poll'),
        ),
    ]
