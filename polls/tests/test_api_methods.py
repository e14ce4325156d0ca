"""/api/votes and /api/polls/{id}/results on ranked and score polls: each refused ballot's code and status,
ballots that go in, and full results counted once per results version, whoever reads them."""

import uuid
from unittest import mock

import pytest

from polls import services, tallies
from polls.models import Ballot, Vote
from polls.tests.factories import PollFactory, pick, ranked_counts, score_counts, visitor
from quickpoll.tests.assertions import assert_error
from realtime import events

pytestmark = pytest.mark.django_db

COLOURS = ["Red", "Green", "Blue", "Gold"]


@pytest.fixture
def ranked_poll(owner):
    """Ranked: rank two or three of Red, Green, Blue, Gold."""
    return PollFactory(author=owner, method="ranked", options=COLOURS, min_choices=2, max_choices=3)


@pytest.fixture
def score_poll(owner):
    """Score from 1 to 5: rate one or two of Red, Green, Blue, Gold."""
    return PollFactory(author=owner, method="score", options=COLOURS, score_min=1, score_max=5, max_choices=2)


def ranking(poll, *texts) -> list[str]:
    return [str(option_id) for option_id in pick(poll, *texts)]


def scores(poll, **given) -> dict:
    return {str(pick(poll, text)[0]): score for text, score in given.items()}


def post(client, poll, **ballot):
    return client.post("/api/votes", {"poll_id": str(poll.pk), **ballot}, format="json")


# --- ballots that go in ---------------------------------------------------------------------------------


def test_a_ranked_ballot_is_stored_in_the_voters_order(other_client, ranked_poll):
    response = post(other_client, ranked_poll, option_ids=ranking(ranked_poll, "Blue", "Red", "Gold"))

    assert response.status_code == 201
    assert [vote["option_text"] for vote in response.json()["votes"]] == ["Blue", "Red", "Gold"]
    stored = Vote.objects.filter(poll=ranked_poll).order_by("rank").values_list("rank", "option__text")
    assert list(stored) == [(1, "Blue"), (2, "Red"), (3, "Gold")]
    assert response.json()["results"]["method"] == "ranked"
    assert ranked_counts(ranked_poll) == (1, 1, 1, 1)


def test_a_score_ballot_is_stored_with_its_scores(other_client, score_poll):
    response = post(other_client, score_poll, scores=scores(score_poll, Green=5, Gold=1))

    assert response.status_code == 201
    assert score_counts(score_poll)["Green"] == (1, 1, 5, 5) and score_counts(score_poll)["Gold"] == (1, 1, 1, 1)
    options = {option["text"]: option for option in response.json()["results"]["options"]}
    assert (options["Green"]["mean"], options["Red"]["mean"]) == (5.0, None)


def test_changing_a_ranked_ballot_reorders_it(other_client, ranked_poll):
    post(other_client, ranked_poll, option_ids=ranking(ranked_poll, "Blue", "Red"))

    response = other_client.put(
        f"/api/votes/poll/{ranked_poll.pk}", {"option_ids": ranking(ranked_poll, "Red", "Gold", "Blue")}, format="json"
    )

    assert response.status_code == 200
    stored = Vote.objects.filter(poll=ranked_poll).order_by("rank").values_list("option__text", flat=True)
    assert list(stored) == ["Red", "Gold", "Blue"]
    assert ranked_counts(ranked_poll) == (1, 1, 1, 1)
    assert dict(ranked_poll.options.values_list("text", "vote_count")) == {"Red": 1, "Green": 0, "Blue": 0, "Gold": 0}


# --- ballots refused, each with its code --------------------------------------------------------------


def refused(response, status: int, code: str, poll) -> None:
    assert_error(response, status, code)
    assert not Ballot.objects.filter(poll=poll).exists(), "a refused ballot left a row behind"


def test_a_ranking_naming_an_option_twice(other_client, ranked_poll):
    refused(post(other_client, ranked_poll, option_ids=ranking(ranked_poll, "Red", "Blue", "Red")), 400, "duplicate_option", ranked_poll)


@pytest.mark.parametrize("stranger", ["unknown", "another poll's"])
def test_a_ranking_naming_an_option_not_on_the_poll(other_client, ranked_poll, owner, stranger):
    other_poll = PollFactory(author=owner, method="ranked", options=COLOURS)
    odd = str(uuid.uuid4()) if stranger == "unknown" else ranking(other_poll, "Red")[0]

    refused(post(other_client, ranked_poll, option_ids=[*ranking(ranked_poll, "Blue"), odd]), 400, "invalid_option", ranked_poll)


def test_a_ranking_too_long_or_too_short(other_client, ranked_poll):
    refused(post(other_client, ranked_poll, option_ids=ranking(ranked_poll, *COLOURS)), 400, "too_many_options", ranked_poll)
    refused(post(other_client, ranked_poll, option_ids=ranking(ranked_poll, "Gold")), 400, "too_few_options", ranked_poll)
    refused(post(other_client, ranked_poll, option_ids=[]), 400, "invalid_option", ranked_poll)


def test_scores_sent_to_a_ranked_poll(other_client, ranked_poll):
    refused(post(other_client, ranked_poll, scores=scores(ranked_poll, Red=3, Blue=2)), 400, "wrong_ballot_shape", ranked_poll)


def test_option_ids_sent_to_a_score_poll(other_client, score_poll):
    refused(post(other_client, score_poll, option_ids=ranking(score_poll, "Red")), 400, "wrong_ballot_shape", score_poll)
    refused(post(other_client, score_poll), 400, "wrong_ballot_shape", score_poll)


@pytest.mark.parametrize("score", [0, -1, 6, 600, True, False, "4", "four", 4.5, None, [3], {"score": 3}])
def test_a_score_off_the_scale_or_not_a_whole_number(other_client, score_poll, score):
    refused(post(other_client, score_poll, scores=scores(score_poll, Red=score)), 400, "score_out_of_range", score_poll)


def test_a_score_ballot_rating_too_many_or_unknown_options(other_client, score_poll, owner):
    refused(post(other_client, score_poll, scores=scores(score_poll, Red=1, Green=2, Blue=3)), 400, "too_many_options", score_poll)
    refused(post(other_client, score_poll, scores={str(uuid.uuid4()): 3}), 400, "invalid_option", score_poll)
    other_poll = PollFactory(author=owner, method="score", options=COLOURS)
    refused(post(other_client, score_poll, scores=scores(other_poll, Red=3)), 400, "invalid_option", score_poll)
    refused(post(other_client, score_poll, scores={}), 400, "invalid_option", score_poll)


def test_a_score_poll_with_a_minimum(other_client, owner):
    poll = PollFactory(author=owner, method="score", options=COLOURS, min_choices=2)

    refused(post(other_client, poll, scores=scores(poll, Red=3)), 400, "too_few_options", poll)


def test_a_refused_change_keeps_the_ranked_ballot(other_client, ranked_poll):
    post(other_client, ranked_poll, option_ids=ranking(ranked_poll, "Blue", "Red"))

    response = other_client.put(
        f"/api/votes/poll/{ranked_poll.pk}", {"option_ids": ranking(ranked_poll, "Red", "Red")}, format="json"
    )

    assert_error(response, 400, "duplicate_option")
    stored = Vote.objects.filter(poll=ranked_poll).order_by("rank").values_list("option__text", flat=True)
    assert list(stored) == ["Blue", "Red"]


# --- full results ----------------------------------------------------------------------------------------


def test_full_results_of_a_ranked_poll(client_for, ranked_poll):
    for number, texts in enumerate([("Red", "Blue"), ("Blue", "Red"), ("Green", "Red"), ("Red", "Green")]):
        services.cast_vote(poll=ranked_poll, voter=visitor(number), option_ids=pick(ranked_poll, *texts))

    response = client_for(None).get(f"/api/polls/{ranked_poll.pk}/results")

    assert response.status_code == 200
    body = response.json()
    assert body["total_votes"] == body["ranked"]["ballots"] == 4
    assert body["ranked"]["winner"] == body["ranked"]["condorcet_winner"] == ranking(ranked_poll, "Red")[0]
    assert [one["eliminated"] and one["eliminated"]["text"] for one in body["ranked"]["rounds"]] == ["Gold", "Blue", None]


def test_hidden_results_stay_hidden_until_the_voter_votes(client_for, other_user, owner):
    poll = PollFactory(author=owner, method="ranked", options=COLOURS, results_visibility="after_vote")
    client = client_for(other_user)

    assert_error(client.get(f"/api/polls/{poll.pk}/results"), 403, "results_hidden")
    assert post(client, poll, option_ids=ranking(poll, "Red")).status_code == 201
    assert client.get(f"/api/polls/{poll.pk}/results").json()["ranked"]["ballots"] == 1
    assert_error(client_for(None).get(f"/api/polls/{poll.pk}/results"), 403, "results_hidden")
    assert client_for(owner).get(f"/api/polls/{poll.pk}/results").status_code == 200


def test_owner_only_results_of_a_score_poll(client_for, other_user, owner):
    poll = PollFactory(author=owner, method="score", options=COLOURS, results_visibility="owner_only")
    services.cast_vote(poll=poll, voter=visitor(1), scores=scores(poll, Red=4))

    assert_error(client_for(other_user).get(f"/api/polls/{poll.pk}/results"), 403, "results_hidden")
    assert client_for(owner).get(f"/api/polls/{poll.pk}/results").json()["score"]["ballots"] == 1


def test_results_of_a_missing_poll(client_for):
    assert_error(client_for(None).get(f"/api/polls/{uuid.uuid4()}/results"), 404, "not_found")


@pytest.mark.parametrize("method", ["ranked", "score"])
def test_results_are_counted_once_per_version(client_for, owner, method, django_capture_on_commit_callbacks, monkeypatch):
    # Not under test, and its snapshot would run the ORM through database_sync_to_async from this thread.
    monkeypatch.setattr(events, "publish_ballots", lambda changed, confirmations: None)
    poll = PollFactory(author=owner, method=method, options=COLOURS)
    ballot = {"option_ids": ranking(poll, "Red")} if method == "ranked" else {"scores": scores(poll, Red=3)}
    reader = client_for(None)

    with mock.patch.object(tallies, "count", wraps=tallies.count) as count:
        first = reader.get(f"/api/polls/{poll.pk}/results").json()
        assert reader.get(f"/api/polls/{poll.pk}/results").json() == first
        client_for(owner).get(f"/api/polls/{poll.pk}/results")
        assert count.call_count == 1, "a second reader of the same version counted again"
        with django_capture_on_commit_callbacks(execute=True):  # its commit drops the visitors' cached answer
            assert post(client_for(None), poll, **ballot).status_code == 201
        after = reader.get(f"/api/polls/{poll.pk}/results").json()
        reader.get(f"/api/polls/{poll.pk}/results")
        assert count.call_count == 2, "a new vote's version was not counted, or counted twice"

    assert (first["total_votes"], after["total_votes"]) == (0, 1)


@pytest.mark.parametrize("pk", ["not-an-id", "12345"])
def test_results_of_a_malformed_id(client_for, pk):
    assert_error(client_for(None).get(f"/api/polls/{pk}/results"), 404, "not_found")
