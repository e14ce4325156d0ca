"""The database itself refuses double voting and broken counters, whoever writes the rows.

Rows are written with the ORM directly, bypassing polls.services, so these tests show what
the constraints hold on their own.
"""

from contextlib import contextmanager

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from polls.models import Ballot, Like, Option, Poll, Report, Vote
from polls.tests.factories import PollFactory

pytestmark = pytest.mark.django_db


@contextmanager
def refused():
    """Expect the database to refuse the write; the savepoint keeps the test's transaction usable."""
    with pytest.raises(IntegrityError), transaction.atomic():
        yield


@pytest.fixture(params=["single", "multiple"])
def poll(request, owner):
    if request.param == "single":
        return PollFactory(author=owner)
    return PollFactory(author=owner, allow_multiple=True, max_choices=2)


@pytest.fixture(params=["account", "anonymous"])
def voter(request, other_user):
    """How a voter is recorded on a ballot or like."""
    if request.param == "account":
        return {"user": other_user}
    return {"anon_id": "visitor-1"}


# --- Ballots and votes ----------------------------------------------------------------------


def test_a_voter_cannot_have_two_ballots_on_a_poll(poll, voter):
    Ballot.objects.create(poll=poll, **voter)

    with refused():
        Ballot.objects.create(poll=poll, **voter)

    assert Ballot.objects.filter(poll=poll).count() == 1


def test_a_voter_may_have_a_ballot_on_each_poll(poll, voter, owner):
    other_poll = PollFactory(author=owner)

    Ballot.objects.create(poll=poll, **voter)
    Ballot.objects.create(poll=other_poll, **voter)

    assert Ballot.objects.filter(**voter).count() == 2


def test_different_voters_each_get_a_ballot(poll, owner, other_user):
    # Account ballots all carry anon_id "", which must not count as one shared anonymous voter.
    Ballot.objects.create(poll=poll, user=owner)
    Ballot.objects.create(poll=poll, user=other_user)
    Ballot.objects.create(poll=poll, anon_id="visitor-1")
    Ballot.objects.create(poll=poll, anon_id="visitor-2")

    assert Ballot.objects.filter(poll=poll).count() == 4


def test_a_ballot_cannot_pick_the_same_option_twice(poll, voter):
    ballot = Ballot.objects.create(poll=poll, **voter)
    red = poll.options.get(text="Red")
    Vote.objects.create(ballot=ballot, poll=poll, option=red)

    with refused():
        Vote.objects.create(ballot=ballot, poll=poll, option=red)


def test_a_multiple_choice_ballot_may_pick_several_options(owner, voter):
    poll = PollFactory(author=owner, allow_multiple=True)
    ballot = Ballot.objects.create(poll=poll, **voter)

    Vote.objects.bulk_create(Vote(ballot=ballot, poll=poll, option=option) for option in poll.options.all())

    assert ballot.votes.count() == 3


@pytest.mark.parametrize("model", [Ballot, Like])
def test_a_ballot_or_like_needs_a_voter(poll, model):
    with refused():
        model.objects.create(poll=poll)


@pytest.mark.parametrize("model", [Ballot, Like])
def test_a_ballot_or_like_cannot_name_two_voters(poll, other_user, model):
    with refused():
        model.objects.create(poll=poll, user=other_user, anon_id="visitor-1")


# --- Likes ------------------------------------------------------------------------------------


def test_a_voter_cannot_like_a_poll_twice(poll, voter):
    Like.objects.create(poll=poll, **voter)

    with refused():
        Like.objects.create(poll=poll, **voter)


def test_different_voters_each_like_a_poll(poll, owner, other_user):
    for identity in [{"user": owner}, {"user": other_user}, {"anon_id": "visitor-1"}, {"anon_id": "visitor-2"}]:
        Like.objects.create(poll=poll, **identity)

    assert Like.objects.filter(poll=poll).count() == 4


# --- Counters and poll rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "counter"),
    [(Poll, "total_votes"), (Poll, "likes_count"), (Poll, "views_count"), (Option, "vote_count")],
)
def test_counters_cannot_go_negative(poll, model, counter):
    row = poll if model is Poll else poll.options.first()

    with refused():
        model.objects.filter(pk=row.pk).update(**{counter: F(counter) - 1})

    with refused():
        model.objects.filter(pk=row.pk).update(**{counter: -1})

    row.refresh_from_db()
    assert getattr(row, counter) == 0


def test_max_choices_cannot_be_zero(owner):
    poll = PollFactory(author=owner, allow_multiple=True)

    with refused():
        Poll.objects.filter(pk=poll.pk).update(max_choices=0)


@pytest.mark.parametrize("max_choices", [2, 3])
def test_a_single_choice_poll_cannot_allow_several_choices(owner, max_choices):
    poll = PollFactory(author=owner)

    with refused():
        Poll.objects.filter(pk=poll.pk).update(max_choices=max_choices)


@pytest.mark.parametrize(
    ("allow_multiple", "max_choices"), [(False, None), (False, 1), (True, None), (True, 1), (True, 3)]
)
def test_consistent_choice_settings_are_accepted(owner, allow_multiple, max_choices):
    poll = PollFactory(author=owner, allow_multiple=True)

    method = Poll.Method.APPROVAL if allow_multiple else Poll.Method.SINGLE
    updated = Poll.objects.filter(pk=poll.pk).update(method=method, max_choices=max_choices)

    assert updated == 1


def test_two_options_of_a_poll_cannot_share_a_position(poll):
    with refused():
        Option.objects.create(poll=poll, text="Purple", position=0)


# --- Reports ------------------------------------------------------------------------------------


def test_one_open_report_per_reporter_per_poll(poll, other_user, owner):
    first = Report.objects.create(poll=poll, reporter=other_user, reason=Report.Reason.SPAM)
    Report.objects.create(poll=poll, reporter=owner, reason=Report.Reason.SPAM)

    with refused():
        Report.objects.create(poll=poll, reporter=other_user, reason=Report.Reason.ABUSE)

    Report.objects.filter(pk=first.pk).update(status=Report.Status.RESOLVED)
    Report.objects.create(poll=poll, reporter=other_user, reason=Report.Reason.ABUSE)

    assert Report.objects.filter(poll=poll, reporter=other_user).count() == 2
