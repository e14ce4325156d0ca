"""Group commit: many threads' ballots in one transaction, each thread its own answer."""

import threading
import time

import pytest
from django.db import IntegrityError

from accounts.models import Notification
from polls import errors, services
from polls.group_commit import GroupCommit
from polls.models import Ballot, Option
from polls.tests.factories import pick, visitor, vote_counts
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
    return services._BallotToWrite(poll=poll, voter=voter, options=list(Option.objects.filter(poll=poll, text=text)))


@pytest.mark.django_db(transaction=True)
def test_one_batch_stores_every_ballot_refuses_a_second_one_and_moves_counters_once(poll, owner, other_user):
    requests = [
        ballot(poll, visitor(1), "Red"),
        ballot(poll, Voter(user=other_user), "Green"),
        ballot(poll, visitor(1), "Blue"),  # the same visitor again, in the same batch
        ballot(poll, Voter(user=owner), "Red"),
    ]

    outcomes = services._write_ballots(requests)

    assert [type(outcome) for outcome in outcomes] == [Ballot, Ballot, errors.AlreadyVoted, Ballot]
    assert vote_counts(poll) == (3, 3, 3)
    assert dict(poll.options.values_list("text", "vote_count")) == {"Red": 2, "Green": 1, "Blue": 0}
    # One notice for the batch, naming a voter who is not the author.
    assert Notification.objects.filter(recipient=owner, kind=Notification.Kind.VOTE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_ballot_the_database_refuses_does_not_sink_the_rest_of_its_batch(poll):
    doomed = ballot(poll, visitor(1), "Red")
    Option.objects.filter(pk=doomed.options[0].pk).delete()  # removed by a moderator a moment ago
    requests = [ballot(poll, visitor(2), "Green"), doomed, ballot(poll, visitor(3), "Blue")]

    outcomes = services._write_ballots(requests)

    assert isinstance(outcomes[0], Ballot) and isinstance(outcomes[2], Ballot)
    assert isinstance(outcomes[1], IntegrityError)
    assert vote_counts(poll) == (2, 2, 2)
