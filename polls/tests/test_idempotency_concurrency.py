"""Retries racing each other with one Idempotency-Key, in real threads against PostgreSQL: one ballot, one answer."""

import pytest

from accounts.tests.factories import UserFactory
from polls.models import Ballot, Like, Poll
from polls.tests.factories import PollFactory, pick, vote_counts
# The same marks (PostgreSQL, real transactions) and the same threads as the other races through the API.
from polls.tests.test_api_concurrency import client_for, connection_per_thread, pytestmark, run_together  # noqa: F401
from quickpoll.models import IdempotencyRecord

KEY = "5f0e8c9a-3b7d-4e21-8c64-0a9d2f1b7e33"


@pytest.fixture
def poll():
    return PollFactory(author=UserFactory(), title="Favourite colour?")


def _same_answer_everywhere(responses, status: int) -> None:
    assert {response.status_code for response in responses} == {status}
    assert len({response.content for response in responses}) == 1
    replayed = [response.headers.get("Idempotent-Replayed") for response in responses]
    assert replayed.count(None) == 1 and replayed.count("true") == len(responses) - 1


@pytest.mark.parametrize("count", [2, 8])
def test_identical_votes_racing_cast_one_ballot_and_get_one_answer(poll, count):
    client = client_for(UserFactory())
    body = {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Red")[0])]}

    responses = run_together(count, lambda _: client.post("/api/votes", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY))

    _same_answer_everywhere(responses, 201)
    assert Ballot.objects.filter(poll=poll).count() == 1
    assert vote_counts(poll) == (1, 1, 1)  # the total, the options, the votes agree
    assert IdempotencyRecord.objects.get().status == 201


def test_an_anonymous_voters_racing_retries_cast_one_ballot(poll):
    body = {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Green")[0])]}

    def vote(_):
        return client_for().post(
            "/api/votes", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY, HTTP_X_ANON_ID="racing-idempotent-anon-01"
        )

    _same_answer_everywhere(run_together(4, vote), 201)
    assert Ballot.objects.get(poll=poll).anon_id == "racing-idempotent-anon-01"


def test_racing_requests_with_one_key_and_different_bodies_do_one_thing(poll):
    client = client_for(UserFactory())
    colours = ["Red", "Green", "Blue", "Red"]

    def vote(index):
        body = {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, colours[index])[0])]}
        return client.post("/api/votes", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    responses = run_together(len(colours), vote)

    done = [response for response in responses if response.status_code == 201]
    assert len({response.content for response in done}) == 1
    assert {response.json()["code"] for response in responses if response.status_code != 201} <= {"idempotency_key_reused"}
    assert Ballot.objects.filter(poll=poll).count() == 1


def test_racing_poll_creations_make_one_poll_and_racing_likes_one_like(poll):
    author = UserFactory()
    client = client_for(author)
    body = {"title": "Lunch?", "options": ["Soup", "Salad"]}

    created = run_together(3, lambda _: client.post("/api/polls", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY))
    liked = run_together(3, lambda _: client.post("/api/likes", {"poll_id": str(poll.pk)}, format="json", HTTP_IDEMPOTENCY_KEY=KEY + "-like"))

    _same_answer_everywhere(created, 201)
    _same_answer_everywhere(liked, 201)
    assert Poll.objects.filter(author=author).count() == 1
    assert Like.objects.filter(poll=poll).count() == 1
