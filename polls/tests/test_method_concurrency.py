"""Ranked and score ballots racing on one poll, with real threads against PostgreSQL: written in shared batches
(group commit), every ballot counted once, first preferences and score sums equal to their rows."""

import random
import time
from collections import Counter

import pytest

from polls import ballot_box, selectors, services, tallies
from polls.ballot_box import CastBallot
from polls.counters import move_counters
from polls.models import Ballot, Vote
from polls.tests.factories import PollFactory, first_preferences, ranked_counts, rankings, score_counts, visitor
# The same marks (PostgreSQL only, real transactions) and the same thread harness as the API's races.
from polls.tests.test_api_concurrency import (  # noqa: F401 (a fixture and the module's marks)
    client_for,
    connection_per_thread,
    pytestmark,
    run_together,
)


OPTIONS = ["Red", "Green", "Blue", "Gold", "Plum"]
THREADS, PER_THREAD = 40, 5


@pytest.fixture
def batches(monkeypatch) -> list[int]:
    """The size of every batch the group commit wrote."""
    sizes = []
    monkeypatch.setattr(
        ballot_box._batches, "_write_batch", lambda pending: sizes.append(len(pending)) or ballot_box.write_ballots(pending)
    )
    return sizes


def test_two_hundred_ranked_ballots_at_once_are_each_one_ballot_and_one_first_preference(owner, batches):
    poll = PollFactory(author=owner, title="Ranked race", method="ranked", options=OPTIONS)
    ids = dict(poll.options.values_list("text", "pk"))
    draw = random.Random(5)
    ballots = [draw.sample(OPTIONS, k=draw.randint(1, len(OPTIONS))) for _ in range(THREADS * PER_THREAD)]

    def cast(thread_index: int) -> list[int]:
        statuses = []
        for step in range(PER_THREAD):
            number = thread_index * PER_THREAD + step
            headers = {"HTTP_X_ANON_ID": f"ranked-racer-{number:08d}", "REMOTE_ADDR": f"10.2.{number // 200}.{number % 200 + 1}"}
            body = {"poll_id": str(poll.pk), "option_ids": [str(ids[text]) for text in ballots[number]]}
            statuses.append(client_for().post("/api/votes", body, format="json", **headers).status_code)
        return statuses

    results = run_together(THREADS, cast)

    assert Counter(status for statuses in results for status in statuses) == {201: 200}
    assert ranked_counts(poll) == (200, 200, 200, 200)
    assert first_preferences(poll) == {text: (n, n) for text, n in Counter(b[0] for b in ballots).items()} | {
        text: (0, 0) for text in OPTIONS if text not in {b[0] for b in ballots}
    }
    assert Vote.objects.filter(poll=poll).count() == sum(map(len, ballots))
    stored = sorted([text for _, text in ranks] for ranks in rankings(poll).values())
    assert stored == sorted(ballots)
    assert all([rank for rank, _ in ranks] == list(range(1, len(ranks) + 1)) for ranks in rankings(poll).values())
    assert len(batches) < 200, "every ballot went in a transaction of its own"
    counted = selectors.full_results(poll)
    assert counted["ranked"]["ballots"] == counted["total_votes"] == 200


def test_two_hundred_score_ballots_at_once_move_sums_and_ratings_exactly(owner, batches):
    poll = PollFactory(author=owner, title="Score race", method="score", options=OPTIONS)
    ids = dict(poll.options.values_list("text", "pk"))
    draw = random.Random(6)
    ballots = [{text: draw.randint(0, 5) for text in draw.sample(OPTIONS, k=draw.randint(1, 5))} for _ in range(200)]
    voters = [visitor(number, ip_address=f"10.3.{number // 200}.{number % 200 + 1}") for number in range(200)]

    def cast(thread_index: int) -> list:
        return [
            services.cast_vote(
                poll=poll, voter=voters[number], scores={str(ids[text]): score for text, score in ballots[number].items()}
            )
            for number in range(thread_index * PER_THREAD, (thread_index + 1) * PER_THREAD)
        ]

    results = run_together(THREADS, cast)

    assert all(isinstance(cast, CastBallot) for casts in results for cast in casts)
    poll.refresh_from_db()
    assert poll.total_votes == Ballot.objects.filter(poll=poll).count() == 200
    ratings = Counter(text for ballot in ballots for text in ballot)
    sums = Counter()
    for ballot in ballots:
        sums.update(ballot)
    assert score_counts(poll) == {text: (ratings[text], ratings[text], sums[text], sums[text]) for text in OPTIONS}
    assert len(batches) < 200, "every ballot went in a transaction of its own"
    shown = {option["text"]: option for option in selectors.full_results(poll)["score"]["options"]}
    assert {text: shown[text]["mean"] for text in OPTIONS} == {text: round(sums[text] / ratings[text], 2) for text in OPTIONS}


def test_readers_arriving_together_count_a_new_version_once(owner, monkeypatch):
    poll = PollFactory(author=owner, title="Read race", method="ranked", options=OPTIONS)
    for number in range(20):
        services.cast_vote(poll=poll, voter=visitor(number, ip_address=f"10.4.0.{number + 1}"), option_ids=[poll.options.first().pk])
    move_counters(poll.pk)  # a version no one has counted yet (a vote's own broadcast counts the one it makes)
    poll.refresh_from_db()
    counts = []

    def slow_count(counted_poll):
        counts.append(counted_poll.pk)
        time.sleep(0.5)  # a big poll's recount: every reader arriving meanwhile would count too
        return original(counted_poll)

    original = tallies.count
    monkeypatch.setattr(tallies, "count", slow_count)

    results = run_together(20, lambda _: selectors.full_results(poll))

    assert counts == [poll.pk], f"{len(counts)} readers counted the same version"
    assert all(result == results[0] for result in results) and results[0]["ranked"]["ballots"] == 20
