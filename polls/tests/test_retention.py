"""Voters' addresses and browsers are cut back PERSONAL_DATA_RETENTION_DAYS after a poll closes."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from polls import services
from polls.management.commands import close_expired_polls as clock_command
from polls.models import Ballot, Like, Poll
from polls.retention import clear_expired_personal_data, network_of, polls_due
from polls.tests.factories import PollFactory, like_counts, pick, visitor, vote_counts
from polls.voters import Voter

pytestmark = pytest.mark.django_db

LATER = timedelta(days=31)  # past the default 30 days


def _take_part(poll: Poll, *voters: Voter) -> None:
    for voter in voters:
        services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red"))
        services.like_poll(poll=poll, voter=voter)


def _addresses(poll: Poll) -> tuple[set, set, set]:
    ballots = Ballot.objects.filter(poll=poll)
    return (
        set(ballots.values_list("ip_address", flat=True)),
        set(ballots.values_list("user_agent", flat=True)),
        set(Like.objects.filter(poll=poll).values_list("ip_address", flat=True)),
    )


@pytest.fixture
def voters(other_user):
    return [
        visitor(1, ip_address="203.0.113.77"),
        visitor(2, ip_address="2001:db8:abcd:12::7"),
        Voter(user=other_user, ip_address="198.51.100.9", user_agent="Mozilla/5.0 (X11; Linux)"),
    ]


@pytest.fixture
def closed_poll(owner, voters):
    poll = PollFactory(author=owner)
    _take_part(poll, *voters)
    services.set_poll_active(poll=poll, actor=owner, active=False)
    return poll


@pytest.mark.parametrize(
    "address, network",
    [
        ("203.0.113.77", "203.0.113.0"),
        ("10.1.2.3", "10.1.2.0"),
        ("2001:db8:abcd:12::7", "2001:db8:abcd::"),
        ("2001:db8:abcd::", "2001:db8:abcd::"),
        ("::ffff:192.0.2.1", "::"),
    ],
)
def test_network_of_keeps_the_slash_24_or_slash_48(address, network):
    assert network_of(address) == network


def test_closing_a_poll_records_when(owner):
    poll = PollFactory(author=owner)
    assert poll.closed_at is None
    services.set_poll_active(poll=poll, actor=owner, active=False)
    poll.refresh_from_db()
    assert poll.closed_at is not None and timezone.now() - poll.closed_at < timedelta(minutes=1)


def test_the_clock_records_when_it_closed_an_expired_poll(owner):
    poll = PollFactory(author=owner, expires_at=timezone.now() + timedelta(hours=1))
    Poll.objects.filter(pk=poll.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    services.close_expired_polls()
    poll.refresh_from_db()
    assert poll.closed_at is not None


def test_addresses_are_kept_whole_during_the_retention_period(closed_poll):
    before = _addresses(closed_poll)
    assert clear_expired_personal_data(now=timezone.now() + timedelta(days=29)) == 0
    assert _addresses(closed_poll) == before
    assert before[0] == {"203.0.113.77", "2001:db8:abcd:12::7", "198.51.100.9"}


def test_after_the_retention_period_addresses_keep_their_network_and_browsers_go(closed_poll):
    counts = vote_counts(closed_poll), like_counts(closed_poll)

    assert clear_expired_personal_data(now=timezone.now() + LATER) == 1

    ballot_addresses, user_agents, like_addresses = _addresses(closed_poll)
    assert ballot_addresses == like_addresses == {"203.0.113.0", "2001:db8:abcd::", "198.51.100.0"}
    assert user_agents == {""}
    assert (vote_counts(closed_poll), like_counts(closed_poll)) == counts  # the counts never move


def test_with_drop_the_addresses_go_entirely(closed_poll, settings):
    settings.PERSONAL_DATA_ADDRESSES = "drop"
    clear_expired_personal_data(now=timezone.now() + LATER)
    assert _addresses(closed_poll) == ({None}, {""}, {None})


def test_the_retention_period_is_a_setting(closed_poll, settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = 0
    assert clear_expired_personal_data() == 1
    assert _addresses(closed_poll)[1] == {""}


def test_open_polls_and_other_polls_are_left_alone(owner, closed_poll, voters):
    open_poll = PollFactory(author=owner)
    _take_part(open_poll, *voters)
    recently_closed = PollFactory(author=owner)
    _take_part(recently_closed, *voters)
    services.set_poll_active(poll=recently_closed, actor=owner, active=False)
    Poll.objects.filter(pk=recently_closed.pk).update(closed_at=timezone.now() + timedelta(days=5))
    untouched = _addresses(open_poll), _addresses(recently_closed)

    assert clear_expired_personal_data(now=timezone.now() + LATER) == 1
    assert (_addresses(open_poll), _addresses(recently_closed)) == untouched


def test_a_poll_past_its_closing_time_counts_from_that_time(owner, voters):
    poll = PollFactory(author=owner, expires_at=timezone.now() + timedelta(hours=1))
    _take_part(poll, voters[0])
    # Expired, and the clock has not closed it yet: it stopped taking ballots at expires_at all the same.
    Poll.objects.filter(pk=poll.pk).update(expires_at=timezone.now() - LATER)
    assert clear_expired_personal_data() == 1
    assert _addresses(poll)[0] == {"203.0.113.0"}


def test_clearing_is_done_once_and_marked(closed_poll):
    later = timezone.now() + LATER
    assert clear_expired_personal_data(now=later) == 1
    assert clear_expired_personal_data(now=later + timedelta(days=1)) == 0  # nothing is scanned again
    closed_poll.refresh_from_db()
    assert closed_poll.personal_data_cleared_at == later


def test_a_poll_reopened_after_clearing_is_cleared_again_after_its_next_close(owner, closed_poll):
    clear_expired_personal_data(now=timezone.now())  # as if cleared long ago, settings aside
    Poll.objects.filter(pk=closed_poll.pk).update(
        personal_data_cleared_at=timezone.now() - timedelta(days=1), closed_at=timezone.now() - LATER
    )
    services.set_poll_active(poll=closed_poll, actor=owner, active=True)
    assert not polls_due(now=timezone.now() + LATER).filter(pk=closed_poll.pk).exists()  # open again
    _take_part(closed_poll, visitor(9, ip_address="192.0.2.200"))
    services.set_poll_active(poll=closed_poll, actor=owner, active=False)

    assert clear_expired_personal_data(now=timezone.now() + LATER) == 1
    assert "192.0.2.0" in _addresses(closed_poll)[0]


def test_the_operators_command_reports_what_it_cleared(closed_poll, settings, capsys):
    settings.PERSONAL_DATA_RETENTION_DAYS = 0
    call_command("clear_personal_data")
    assert "on 1 poll(s) closed over 0 day(s) ago" in capsys.readouterr().out
    assert _addresses(closed_poll)[1] == {""}


class _Stop(Exception):
    pass


def test_the_clock_process_clears_personal_data(closed_poll, settings, monkeypatch, capsys):
    settings.PERSONAL_DATA_RETENTION_DAYS = 0

    def stop(seconds):
        raise _Stop

    monkeypatch.setattr(clock_command.time, "sleep", stop)
    with pytest.raises(_Stop):
        call_command("close_expired_polls", every=60)
    assert "on 1 poll(s)" in capsys.readouterr().out
    assert _addresses(closed_poll)[1] == {""}
