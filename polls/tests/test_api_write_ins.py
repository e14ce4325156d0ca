"""/api/polls/{poll_id}/write-ins: suggesting options, the author's queue, accepting and rejecting."""

import uuid

import pytest

from polls import invites, services
from polls.models import MAX_OPTIONS, Option, Poll, WriteIn
from polls.tests.factories import PollFactory, pick
from polls.voters import Voter

pytestmark = pytest.mark.django_db

ANON = {"HTTP_X_ANON_ID": "write-in-visitor-0001"}


@pytest.fixture
def poll(owner):
    return PollFactory(author=owner, title="Where do we eat?", options=["Pizza", "Sushi"], allow_write_ins=True)


def url(poll, tail: str = "") -> str:
    return f"/api/polls/{poll.pk}/write-ins{tail}"


def suggest(client, poll, text="Tacos", **headers):
    return client.post(url(poll), {"text": text}, format="json", **headers)


def waiting(poll, text="Tacos") -> WriteIn:
    return services.suggest_option(poll=poll, voter=Voter(anon_id="queued-visitor-0001"), text=text)


def test_an_anonymous_visitor_suggests_and_the_suggestion_waits(api_client, poll):
    response = suggest(api_client, poll, " Tacos ", **ANON)

    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in ("poll_id", "text", "status", "option_id", "suggested_by", "handled_at")} == {
        "poll_id": str(poll.pk),
        "text": "Tacos",
        "status": "pending",
        "option_id": None,
        "suggested_by": None,
        "handled_at": None,
    }
    assert WriteIn.objects.get().anon_id == ANON["HTTP_X_ANON_ID"]


def test_without_approval_the_answer_names_the_new_option(other_client, other_user, owner):
    poll = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True, write_ins_need_approval=False)

    body = suggest(other_client, poll).json()

    option = Option.objects.get(poll=poll, text="Tacos")
    assert (body["status"], body["option_id"], body["suggested_by"]["username"]) == ("accepted", str(option.pk), "other")
    # The poll as anyone reads it has the option, ready to vote on.
    assert "Tacos" in [item["text"] for item in other_client.get(f"/api/polls/{poll.pk}").json()["options"]]
    vote = other_client.post("/api/votes", {"poll_id": str(poll.pk), "option_ids": [str(option.pk)]}, format="json")
    assert vote.status_code == 201


@pytest.mark.parametrize(
    "text, status, code",
    [
        ("", 400, "invalid"),
        ("   ", 400, "invalid"),
        ("x" * 101, 400, "invalid"),
        ("x" * 1001, 400, "invalid"),
        ("pizza", 409, "option_exists"),
    ],
)
def test_bad_text_is_refused_with_its_code(api_client, poll, text, status, code):
    response = suggest(api_client, poll, text, **ANON)

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not WriteIn.objects.exists()


def test_blank_text_names_its_field(api_client, poll):
    assert suggest(api_client, poll, " ", **ANON).json()["fields"] == {"text": ["Write the option you suggest."]}


def test_a_body_without_text_is_invalid(api_client, poll):
    response = api_client.post(url(poll), {}, format="json", **ANON)

    assert (response.status_code, response.json()["code"], list(response.json()["fields"])) == (400, "invalid", ["text"])


def test_a_suggestion_waiting_and_one_turned_down_are_conflicts(api_client, poll, owner):
    services.reject_write_in(write_in=waiting(poll, "Ramen"), actor=owner)
    waiting(poll, "Tacos")

    assert suggest(api_client, poll, "TACOS", **ANON).json()["code"] == "already_suggested"
    assert suggest(api_client, poll, "ramen", **ANON).json()["code"] == "suggestion_rejected"


def test_a_full_poll_answers_option_limit_reached(api_client, owner):
    poll = PollFactory(author=owner, options=[f"Option {n}" for n in range(MAX_OPTIONS)], allow_write_ins=True)

    response = suggest(api_client, poll, **ANON)

    assert (response.status_code, response.json()["code"]) == (409, "option_limit_reached")


def test_a_fourth_suggestion_waiting_from_one_voter_is_too_many(api_client, poll):
    for text in ["Tacos", "Ramen", "Curry"]:
        assert suggest(api_client, poll, text, **ANON).status_code == 201

    response = suggest(api_client, poll, "Falafel", **ANON)

    assert (response.status_code, response.json()["code"]) == (429, "suggestion_limit")


@pytest.mark.parametrize(
    "fields, status, code",
    [
        ({"allow_write_ins": False}, 403, "write_ins_off"),
        ({"allow_anonymous": False}, 401, "login_required"),
        ({"invite_only": True}, 403, "invite_required"),
    ],
)
def test_polls_that_do_not_let_this_visitor_suggest(api_client, owner, fields, status, code):
    poll = PollFactory(author=owner, options=["Pizza", "Sushi"], **{"allow_write_ins": True, **fields})

    response = suggest(api_client, poll, **ANON)

    assert (response.status_code, response.json()["code"]) == (status, code)


def test_closed_and_secret_polls_take_no_suggestion(api_client, poll, owner):
    secret = PollFactory(author=owner, options=["Pizza", "Sushi"], is_secret=True)
    Poll.objects.filter(pk=secret.pk).update(allow_write_ins=True)
    services.set_poll_active(poll=poll, actor=owner, active=False)

    assert suggest(api_client, poll, **ANON).json()["code"] == "poll_closed"
    assert suggest(api_client, secret, **ANON).json()["code"] == "write_ins_off"


def test_an_invite_admits_a_suggestion_as_it_admits_a_vote(api_client, owner):
    poll = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True, invite_only=True)
    [invite] = invites.create_invites(poll=poll, actor=owner, count=1)

    assert suggest(api_client, poll, **ANON, HTTP_X_INVITE=invite.token).status_code == 201


def test_suggesting_spends_the_voters_rate_budget(api_client, poll, settings):
    settings.RATE_LIMIT_ENABLED = True
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_REQUESTS = 1000
    settings.RATE_LIMIT_VOTER_REQUESTS = 2
    settings.RATE_LIMIT_WINDOW = 24 * 3600  # one fixed slot holds the test's few requests
    suggest(api_client, poll, "Tacos", **ANON)
    suggest(api_client, poll, "Ramen", **ANON)

    response = suggest(api_client, poll, "Curry", **ANON)

    assert (response.status_code, response.json()["code"]) == (429, "rate_limited")
    assert WriteIn.objects.count() == 2


# --- The queue and the decisions ------------------------------------------------------------------------------


def test_the_author_reads_the_queue_filtered_by_status(owner_client, poll, owner):
    services.reject_write_in(write_in=waiting(poll, "Ramen"), actor=owner)
    waiting(poll, "Tacos")

    everything = owner_client.get(url(poll)).json()
    queue = owner_client.get(url(poll, "?status=pending")).json()

    assert [item["text"] for item in everything["results"]] == ["Ramen", "Tacos"]
    assert [(item["text"], item["status"]) for item in queue["results"]] == [("Tacos", "pending")]
    assert owner_client.get(url(poll, "?status=maybe")).json()["code"] == "invalid"


def test_only_the_author_and_moderators_read_the_queue(api_client, other_client, staff_api_client, poll):
    assert api_client.get(url(poll)).json()["code"] == "login_required"
    assert other_client.get(url(poll)).json()["code"] == "not_owner"
    assert staff_api_client.get(url(poll)).status_code == 200


def test_the_author_accepts_and_voters_can_pick_it(owner_client, other_client, poll):
    write_in = waiting(poll)

    response = owner_client.post(url(poll, f"/{write_in.pk}/accept"))

    assert response.status_code == 200
    option = Option.objects.get(poll=poll, text="Tacos")
    assert (response.json()["status"], response.json()["option_id"]) == ("accepted", str(option.pk))
    vote = other_client.post("/api/votes", {"poll_id": str(poll.pk), "option_ids": [str(option.pk)]}, format="json")
    assert vote.status_code == 201


def test_a_moderator_rejects_with_a_reason(client_for, moderator, poll):
    write_in = waiting(poll)

    response = client_for(moderator).post(url(poll, f"/{write_in.pk}/reject"), {"reason": "Off topic."}, format="json")

    assert (response.status_code, response.json()["status"]) == (200, "rejected")


@pytest.mark.parametrize("decision", ["accept", "reject"])
def test_voters_cannot_decide(api_client, other_client, poll, decision):
    write_in = waiting(poll)

    assert other_client.post(url(poll, f"/{write_in.pk}/{decision}")).json()["code"] == "not_owner"
    assert api_client.post(url(poll, f"/{write_in.pk}/{decision}"), **ANON).json()["code"] == "login_required"
    assert WriteIn.objects.get().status == WriteIn.Status.PENDING


def test_deciding_twice_is_a_conflict(owner_client, poll):
    write_in = waiting(poll)
    owner_client.post(url(poll, f"/{write_in.pk}/accept"))

    response = owner_client.post(url(poll, f"/{write_in.pk}/reject"))

    assert (response.status_code, response.json()["code"]) == (409, "write_in_handled")


def test_missing_objects_and_wrong_methods(owner_client, poll, owner):
    write_in = waiting(poll)
    elsewhere = PollFactory(author=owner, options=["Pizza", "Sushi"], allow_write_ins=True)

    assert owner_client.post(f"/api/polls/{uuid.uuid4()}/write-ins", {"text": "Tacos"}, format="json").status_code == 404
    assert owner_client.get(f"/api/polls/{uuid.uuid4()}/write-ins").status_code == 404
    assert owner_client.post(url(poll, f"/{uuid.uuid4()}/accept")).json()["code"] == "not_found"
    # A suggestion is found under its own poll only.
    assert owner_client.post(url(elsewhere, f"/{write_in.pk}/accept")).json()["code"] == "not_found"
    assert owner_client.get(url(poll, f"/{write_in.pk}/accept")).json()["code"] == "method_not_allowed"
    assert owner_client.delete(url(poll)).json()["code"] == "method_not_allowed"
    assert WriteIn.objects.get().status == WriteIn.Status.PENDING


def test_an_accepted_option_counts_in_results_like_the_others(owner_client, other_client, poll):
    write_in = waiting(poll)
    owner_client.post(url(poll, f"/{write_in.pk}/accept"))
    other_client.post("/api/votes", {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Tacos")[0])]}, format="json")

    results = other_client.get(f"/api/polls/{poll.pk}/results").json()

    assert {option["text"]: option["votes"] for option in results["options"]} == {"Pizza": 0, "Sushi": 0, "Tacos": 1}
