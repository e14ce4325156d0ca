"""Group commit: many threads' ballots in one transaction, each thread its own answer."""

import threading
import time

import pytest
from django.db import IntegrityError

from accounts.models import Notification
from polls import ballot_box, errors, selectors
from polls.ballot_box import CastBallot, PendingBallot
from polls.group_commit import GroupCommit
from polls.models import Ballot, Option
from polls.tests.factories import PollFactory, visitor, vote_counts
from polls.voters import Voter


def submit_together(box: GroupCommit, payloads: list) -> list:
    """Submit each payload from its own thread, all released at once; each thread's outcome or error."""
    barrier = threading.Barrier(len(payloads))
    outcomes: list = [None] * len(payloads)

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        try:
            outcomes[index] = box.submit(payloads[index])
        except Exception as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return outcomes


class SlowWriter:
    """Takes a while per batch, like a commit waiting for the disk, and remembers each batch."""

    def __init__(self):
        self.batches: list[list] = []

    def __call__(self, payloads):
        self.batches.append(list(payloads))
        time.sleep(0.02)
        return [ValueError(payload) if payload < 0 else payload * 10 for payload in payloads]


def test_every_thread_gets_its_own_outcome_and_waiting_threads_share_a_batch():
    writer = SlowWriter()

    outcomes = submit_together(GroupCommit(writer), list(range(40)))

    assert outcomes == [number * 10 for number in range(40)]
    assert sorted(payload for batch in writer.batches for payload in batch) == list(range(40))
    assert len(writer.batches) < 40  # threads that arrived during a write went together in the next one


def test_an_error_is_raised_in_its_own_thread_only():
    outcomes = submit_together(GroupCommit(SlowWriter()), [1, -2, 3])

    assert outcomes[0] == 10 and outcomes[2] == 30
    assert isinstance(outcomes[1], ValueError)


def test_a_batch_that_fails_as_a_whole_fails_its_threads_and_the_next_batch_goes_ahead():
    calls = []

    def flaky(payloads):
        calls.append(list(payloads))
        if len(calls) == 1:
            raise ConnectionError("database out of reach")
        return list(payloads)

    box = GroupCommit(flaky)

    with pytest.raises(ConnectionError):
        box.submit(1)
    assert box.submit(2) == 2


def test_a_batch_is_never_larger_than_its_limit():
    writer = SlowWriter()

    submit_together(GroupCommit(writer, max_batch=4), list(range(20)))

    assert max(len(batch) for batch in writer.batches) <= 4


# --- Ballots written together -----------------------------------------------------------------


def ballot(poll, voter, text):
    return PendingBallot(poll=poll, voter=voter, options=list(Option.objects.filter(poll=poll, text=text)))


@pytest.mark.django_db(transaction=True)
def test_one_batch_stores_every_ballot_refuses_a_second_one_and_moves_counters_once(poll, owner, other_user):
    pending = [
        ballot(poll, visitor(1), "Red"),
        ballot(poll, Voter(user=other_user), "Green"),
        ballot(poll, visitor(1), "Blue"),  # the same visitor again, in the same batch
        ballot(poll, Voter(user=owner), "Red"),
    ]

    outcomes = ballot_box.write_ballots(pending)

    assert [type(outcome) for outcome in outcomes] == [CastBallot, CastBallot, errors.AlreadyVoted, CastBallot]
    assert vote_counts(poll) == (3, 3, 3)
    assert dict(poll.options.values_list("text", "vote_count")) == {"Red": 2, "Green": 1, "Blue": 0}
    # One notice for the batch, naming a voter who is not the author.
    assert Notification.objects.filter(recipient=owner, kind=Notification.Kind.VOTE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_each_ballot_comes_back_with_its_votes_and_the_results_committed_with_the_batch(poll, other_user):
    outcomes = ballot_box.write_ballots([ballot(poll, visitor(1), "Red"), ballot(poll, Voter(user=other_user), "Green")])

    assert [[vote.option.text for vote in cast.votes] for cast in outcomes] == [["Red"], ["Green"]]
    assert all(vote.ballot == cast.ballot for cast in outcomes for vote in cast.votes)
    assert outcomes[0].results == outcomes[1].results == selectors.poll_results(poll)
    assert outcomes[0].results["total_votes"] == 2


@pytest.mark.django_db(transaction=True)
def test_a_ballot_the_database_refuses_does_not_sink_the_rest_of_its_batch(poll):
    doomed = ballot(poll, visitor(1), "Red")
    Option.objects.filter(pk=doomed.options[0].pk).delete()  # removed by a moderator a moment ago
    pending = [ballot(poll, visitor(2), "Green"), doomed, ballot(poll, visitor(3), "Blue")]

    outcomes = ballot_box.write_ballots(pending)

    assert isinstance(outcomes[0], CastBallot) and isinstance(outcomes[2], CastBallot)
    assert isinstance(outcomes[1], IntegrityError)
    assert vote_counts(poll) == (2, 2, 2)


@pytest.mark.django_db(transaction=True)
def test_anonymous_ballots_from_one_address_in_one_batch_stop_at_the_cap(poll, owner, other_user, settings):
    settings.ANONYMOUS_BALLOTS_PER_IP = 3
    address, elsewhere = "198.51.100.7", "198.51.100.8"
    ballot_box.write_ballots([ballot(poll, visitor(1, ip_address=address), "Red")])  # one place taken already
    other_poll = PollFactory(author=owner)
    pending = [
        ballot(poll, visitor(2, ip_address=address), "Red"),
        ballot(poll, visitor(3, ip_address=elsewhere), "Red"),  # another address has places of its own
        ballot(poll, visitor(2, ip_address=address), "Blue"),  # a repeat is refused and takes no place
        ballot(poll, visitor(4, ip_address=address), "Green"),
        ballot(poll, Voter(user=other_user, ip_address=address), "Blue"),  # accounts are not capped
        ballot(poll, visitor(5, ip_address=address), "Blue"),
        ballot(other_poll, visitor(6, ip_address=address), "Red"),  # nor is the address on another poll
        ballot(poll, visitor(7, ip_address=address), "Red"),
        ballot(poll, Voter(anon_id="visitor-without-address"), "Red"),  # no address: nothing to count against
    ]

    outcomes = ballot_box.write_ballots(pending)

    refused = errors.AnonymousLimitReached
    assert [type(outcome) for outcome in outcomes] == [
        CastBallot, CastBallot, errors.AlreadyVoted, CastBallot, CastBallot, refused, CastBallot, refused, CastBallot
    ]
    assert Ballot.objects.filter(poll=poll, user__isnull=True, ip_address=address).count() == 3
    assert vote_counts(poll) == (6, 6, 6)
    assert vote_counts(other_poll) == (1, 1, 1)


@pytest.mark.django_db(transaction=True)
def test_a_voter_at_a_full_address_is_told_of_the_cap_before_their_earlier_ballot(poll, settings):
    settings.ANONYMOUS_BALLOTS_PER_IP = 1
    voter = visitor(1, ip_address="198.51.100.7")
    ballot_box.write_ballots([ballot(poll, voter, "Red")])

    [outcome] = ballot_box.write_ballots([ballot(poll, voter, "Green")])

    assert isinstance(outcome, errors.AnonymousLimitReached)


@pytest.mark.django_db(transaction=True)
def test_an_address_counts_as_one_however_it_is_spelled(poll, settings):
    settings.ANONYMOUS_BALLOTS_PER_IP = 1
    ballot_box.write_ballots([ballot(poll, visitor(1, ip_address="2001:DB8::1"), "Red")])

    [outcome] = ballot_box.write_ballots([ballot(poll, visitor(2, ip_address="2001:db8:0:0::1"), "Red")])

    assert isinstance(outcome, errors.AnonymousLimitReached)
