import logging
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from polls.management.commands.seed_demo import DEMO_PASSWORD, DEMO_POLLS, DEMO_USERS, MODERATOR
from polls.models import Ballot, Like, Option, Poll, Report, Vote
from polls.tests.factories import like_counts, vote_counts

pytestmark = pytest.mark.django_db

MODELS = [User, Poll, Option, Ballot, Vote, Like, Report]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def seeded():
    seed()
    return row_counts()


def test_seed_demo_loads_every_kind_of_poll(seeded):
    assert seeded["User"] == len(DEMO_USERS) + 1
    assert seeded["Poll"] == len(DEMO_POLLS)
    assert seeded["Vote"] > 0 and seeded["Like"] > 0 and seeded["Report"] == 1
    assert Poll.objects.filter(method=Poll.Method.APPROVAL).exists()
    assert Poll.objects.filter(is_public=False).exists()
    assert Poll.objects.filter(allow_anonymous=False).exists()
    assert Ballot.objects.filter(user__isnull=True).exists()
    assert sum(poll.is_expired for poll in Poll.objects.all()) == 1


def test_seeding_says_one_line_and_logs_no_line_per_vote(caplog):
    caplog.set_level(logging.INFO)

    output = seed()

    assert [record.getMessage() for record in caplog.records if record.name.startswith(("polls", "accounts"))] == []
    assert len(output.strip().splitlines()) == 1
    assert f"Loaded {len(DEMO_POLLS)} demo polls (" in output and DEMO_PASSWORD in output


def test_seed_demo_a_second_time_changes_nothing(seeded):
    output = seed()

    assert "already loaded" in output
    assert row_counts() == seeded


def test_seeded_counters_agree_with_the_rows(seeded):
    for poll in Poll.objects.all():
        total, option_total, votes = vote_counts(poll)
        assert total == option_total == votes, poll.title
        likes, like_rows = like_counts(poll)
        assert likes == like_rows, poll.title


def test_seeded_ballots_respect_their_polls_rules(seeded):
    for ballot in Ballot.objects.select_related("poll"):
        # A secret ballot's choices are sealed apart from it (test_secret_ballots checks those).
        assert ballot.poll.is_secret or 1 <= ballot.votes.count() <= ballot.poll.choice_limit
        assert ballot.user_id is not None or ballot.poll.allow_anonymous
        assert not ballot.poll.invite_only or ballot.invite_id is not None


def test_the_demo_moderator_can_use_the_admin(client):
    seed()

    assert client.login(username=MODERATOR, password=DEMO_PASSWORD)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/polls/report/").status_code == 200


def test_demo_accounts_log_in_by_email(client):
    seed()

    assert client.login(username=f"{DEMO_USERS[0].upper()}@EXAMPLE.COM", password=DEMO_PASSWORD)
