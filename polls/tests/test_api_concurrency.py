"""Races through the API, with real threads against PostgreSQL: the database referees, every voter counts once."""

import gc
import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Notification
from accounts.tests.factories import UserFactory
from polls import ballot_box, errors, services
from polls.ballot_box import CastBallot, PendingBallot
from polls.models import Ballot, Like, Option, Vote
from polls.tests.factories import PollFactory, like_counts, pick, visitor, vote_counts
from polls.voters import Voter

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency needs PostgreSQL's row locks and concurrent writers; set DATABASE_URL to run it",
    ),
    pytest.mark.django_db(transaction=True),
]

ANON_ID = "racing-anon-voter-0001"


@pytest.fixture(autouse=True)
def connection_per_thread():
    """Up to 50 threads here hold a connection each, as 50 server threads would. A server
    runs fewer threads than its pool has connections (WEB_THREADS, DATABASE_POOL_MAX_SIZE)."""
    pool = connection.pool
    if pool is None:
        yield
        return
    sizes = pool.min_size, pool.max_size
    pool.resize(sizes[0], 60)
    yield
    pool.resize(*sizes)


def run_together(count: int, work) -> list:
    """Run work(index) in `count` threads released at the same moment; their results, in index order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    failures: list = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:  # reported below, in the test's own thread
            failures.append(exc)
        finally:
            # Each thread has its own connection; leaving it open would block the test database's flush.
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not [thread for thread in threads if thread.is_alive()], "a thread hung"
    # Live-result broadcasts read the database on asgiref's throwaway executor threads; their
    # connections close only when collected, and an open one would block dropping the test database.
    gc.collect()
    assert not failures, failures
    return results


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user=user)
    return client


def vote_body(poll, text: str = "Red") -> dict:
    return {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, text)[0])]}


def outcome(response) -> tuple[int, str | None]:
    return response.status_code, (response.json().get("code") if response.content else None)


@pytest.fixture
def poll(owner):
    return PollFactory(author=owner, title="Race", options=["Red", "Green", "Blue"])


@pytest.mark.parametrize("voter", ["account", "anonymous"])
def test_fifty_identical_votes_at_once_make_one_ballot(poll, other_user, voter):
    body = vote_body(poll)
    headers = {"HTTP_X_ANON_ID": ANON_ID} if voter == "anonymous" else {}
    user = other_user if voter == "account" else None

    results = run_together(50, lambda _: outcome(client_for(user).post("/api/votes", body, format="json", **headers)))

    assert Counter(results) == {(201, None): 1, (409, "already_voted"): 49}
    assert Ballot.objects.filter(poll=poll).count() == 1
    assert vote_counts(poll) == (1, 1, 1)


def test_two_hundred_voters_at_once_are_all_counted(poll, owner):
    accounts = [UserFactory(username=f"racer{number}") for number in range(100)]
    threads, per_thread = 40, 5
    texts = ["Red", "Green", "Blue"]

    def cast(thread_index: int) -> list:
        statuses = []
        for step in range(per_thread):
            number = thread_index * per_thread + step
            if number < len(accounts):
                client, headers = client_for(accounts[number]), {}
            else:
                # Anonymous voters on addresses of their own, clear of ANONYMOUS_BALLOTS_PER_IP.
                address = f"10.0.{number // 200}.{number % 200 + 1}"
                client, headers = client_for(), {"HTTP_X_ANON_ID": f"racing-anon-{number:08d}", "REMOTE_ADDR": address}
            response = client.post("/api/votes", vote_body(poll, texts[number % 3]), format="json", **headers)
            statuses.append(response.status_code)
        return statuses

    results = run_together(threads, cast)

    assert Counter(status for statuses in results for status in statuses) == {201: 200}
    assert vote_counts(poll) == (200, 200, 200)
    assert Ballot.objects.filter(poll=poll).count() == 200
    assert dict(poll.options.values_list("text", "vote_count")) == {"Red": 67, "Green": 67, "Blue": 66}
    # The poll row lock orders the votes, so the author's unread "new votes" notice stays one and counts each.
    notice = Notification.objects.get(recipient=owner, kind=Notification.Kind.VOTE)
    assert (notice.count, notice.payload["message"]) == (200, f"200 new votes on “{poll.title}”.")


def test_thirty_threads_voting_at_once_are_written_in_shared_batches_and_all_counted(poll, monkeypatch):
    batches = []
    monkeypatch.setattr(
        ballot_box._batches, "_write_batch", lambda pending: batches.append(len(pending)) or ballot_box.write_ballots(pending)
    )
    voters = [visitor(number, ip_address=f"10.1.0.{number}") for number in range(1, 31)]

    results = run_together(30, lambda index: services.cast_vote(poll=poll, voter=voters[index], option_ids=pick(poll, "Red")))

    assert all(isinstance(cast, CastBallot) for cast in results)
    assert vote_counts(poll) == (30, 30, 30)
    assert sum(batches) == 30 and len(batches) < 30


def test_sixty_anonymous_ballots_at_once_from_one_address_stop_at_the_cap(poll, settings):
    limit = settings.ANONYMOUS_BALLOTS_PER_IP
    body = vote_body(poll)

    def cast(index: int):
        headers = {"HTTP_X_ANON_ID": f"one-address-visitor-{index:04d}", "REMOTE_ADDR": "198.51.100.60"}
        return outcome(client_for().post("/api/votes", body, format="json", **headers))

    results = run_together(60, cast)

    assert Counter(results) == {(201, None): limit, (429, "anonymous_limit"): 60 - limit}
    assert vote_counts(poll) == (limit, limit, limit)
    assert Ballot.objects.filter(poll=poll, ip_address="198.51.100.60").count() == limit


def test_the_anonymous_cap_holds_between_transactions_that_are_not_batched_together(poll, settings):
    """As if from 30 server processes: each ballot in a transaction of its own, all at once."""
    settings.ANONYMOUS_BALLOTS_PER_IP = 5
    red = list(Option.objects.filter(poll=poll, text="Red"))
    voters = [visitor(number, ip_address="198.51.100.61") for number in range(30)]

    results = run_together(30, lambda index: ballot_box.write_ballots([PendingBallot(poll, voters[index], red)])[0])

    assert Counter(type(outcome) for outcome in results) == {CastBallot: 5, errors.AnonymousLimitReached: 25}
    assert vote_counts(poll) == (5, 5, 5)


@pytest.mark.parametrize("voter", ["account", "anonymous"])
def test_thirty_identical_likes_at_once_make_one_like(poll, other_user, voter):
    headers = {"HTTP_X_ANON_ID": ANON_ID} if voter == "anonymous" else {}
    user = other_user if voter == "account" else None

    results = run_together(
        30, lambda _: outcome(client_for(user).post("/api/likes", {"poll_id": str(poll.pk)}, format="json", **headers))
    )

    assert Counter(results) == {(201, None): 1, (409, "already_liked"): 29}
    assert like_counts(poll) == (1, 1)
    assert Like.objects.get().poll == poll


@pytest.mark.parametrize("voter", ["account", "anonymous"])
def test_thirty_retractions_of_one_ballot_at_once_count_once(poll, owner, other_user, voter):
    services.cast_vote(poll=poll, voter=Voter(user=owner), option_ids=pick(poll, "Red"))
    racer = Voter(user=other_user) if voter == "account" else Voter(anon_id=ANON_ID)
    services.cast_vote(poll=poll, voter=racer, option_ids=pick(poll, "Red"))
    headers = {"HTTP_X_ANON_ID": ANON_ID} if voter == "anonymous" else {}
    user = other_user if voter == "account" else None

    results = run_together(30, lambda _: outcome(client_for(user).delete(f"/api/votes/poll/{poll.pk}", **headers)))

    assert Counter(results) == {(204, None): 1, (404, "not_found"): 29}
    assert vote_counts(poll) == (1, 1, 1)
    assert poll.options.get(text="Red").vote_count == 1
    assert Ballot.objects.get(poll=poll).user == owner


def test_thirty_deletes_of_one_vote_by_id_at_once_count_once(poll, owner, other_user, staff_user):
    multi = PollFactory(author=owner, allow_multiple=True)
    services.cast_vote(poll=multi, voter=Voter(user=other_user), option_ids=pick(multi, "Red", "Green"))
    red_vote = Vote.objects.get(poll=multi, option__text="Red")

    def delete(index: int):
        # The voter and a moderator race each other.
        return client_for(other_user if index % 2 else staff_user).delete(f"/api/votes/{red_vote.pk}").status_code

    results = run_together(30, delete)

    # Whoever loaded the vote before it went gets 204 (nothing left to take back); later ones 404.
    assert set(results) <= {204, 404} and 204 in results
    assert vote_counts(multi) == (1, 1, 1)
    assert dict(multi.options.values_list("text", "vote_count")) == {"Red": 0, "Green": 1, "Blue": 0}


def test_sixty_anonymous_likes_at_once_from_one_address_stop_at_the_cap(poll, settings):
    limit = settings.ANONYMOUS_BALLOTS_PER_IP
    body = {"poll_id": str(poll.pk)}

    def like(index: int):
        headers = {"HTTP_X_ANON_ID": f"one-address-liker-{index:04d}", "REMOTE_ADDR": "198.51.100.62"}
        return outcome(client_for().post("/api/likes", body, format="json", **headers))

    results = run_together(60, like)

    assert Counter(results) == {(201, None): limit, (429, "anonymous_limit"): 60 - limit}
    assert like_counts(poll) == (limit, limit)
    assert Notification.objects.filter(recipient=poll.author, kind=Notification.Kind.LIKE).count() == 1


def test_forty_likes_at_once_group_into_one_notice_that_counts_every_one(poll):
    likers = [UserFactory() for _ in range(40)]

    run_together(40, lambda index: services.like_poll(poll=poll, voter=Voter(user=likers[index])))

    notice = Notification.objects.get(recipient=poll.author, kind=Notification.Kind.LIKE)
    assert notice.count == 40
    assert notice.payload["message"] == "40 people liked “Race”."
    assert like_counts(poll) == (40, 40)


def test_twenty_reports_at_once_group_into_one_notice_that_counts_every_one(poll):
    reporters = [UserFactory() for _ in range(20)]

    run_together(20, lambda index: services.report_poll(poll=poll, reporter=reporters[index], reason="spam"))

    notice = Notification.objects.get(recipient=poll.author, kind=Notification.Kind.REPORT)
    assert notice.count == 20
    assert notice.payload["message"] == f"“{poll.title}” was reported to the moderators 20 times."


def test_voiding_ballots_while_their_voters_retract_counts_each_vote_once(owner):
    """A moderator voids a network's ballots while those voters take their ballots back: whoever gets a
    vote's row lock first removes it, the other finds it gone, and every counter ends equal to the rows."""
    from polls.models import VoidedBallot

    moderator = UserFactory(username="racing-moderator", is_staff=True)
    poll = PollFactory(author=owner)
    voters = [visitor(number, ip_address=f"198.51.100.{number + 1}") for number in range(20)]
    for voter in voters:
        services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, "Red"))

    def work(index: int):
        if index == 0:
            return services.void_ballots(poll=poll, moderator=moderator, reason="Burst", network="198.51.100.0/24")
        try:
            return services.retract_ballot(poll=poll, voter=voters[index - 1])
        except errors.NotVoted:
            return 0

    results = run_together(len(voters) + 1, work)
    voided, retracted = results[0], sum(results[1:])
    assert voided + retracted == 20
    assert vote_counts(poll) == (0, 0, 0)
    assert Ballot.objects.filter(poll=poll).count() == 0
    assert VoidedBallot.objects.filter(poll=poll).count() == voided
    assert dict(Option.objects.filter(poll=poll).values_list("text", "vote_count")) == {"Red": 0, "Green": 0, "Blue": 0}
