"""Idempotency-Key on the API's writes: a retry gets the first success back, never a second ballot, poll or like.

The racing requests are in polls/tests/test_idempotency_concurrency.py (real threads, PostgreSQL).
"""

import hashlib
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import ApiKey
from accounts.services import delete_account
from accounts.tests.factories import UserFactory
from polls.models import Answer, Ballot, Like, Poll
from polls.tests.factories import PollFactory, pick
from quickpoll import idempotency
from quickpoll.models import IdempotencyRecord
from quickpoll.tests.assertions import assert_error

pytestmark = pytest.mark.django_db

KEY = "0b6f2d4e-4c55-4a4e-9a0e-5d1b8f7e2a10"
ANON_ID = "idempotent-anon-voter-01"


def hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def vote(client, poll, colour="Red", key=KEY, **headers):
    body = {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, colour)[0])]}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post("/api/votes", body, format="json", **headers)


def assert_replayed(first, again):
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


# --- votes ----------------------------------------------------------------------------------------------


def test_a_retried_vote_gets_the_first_answer_and_casts_one_ballot(other_client, poll):
    first = vote(other_client, poll)
    again = vote(other_client, poll)

    assert first.status_code == 201
    assert_replayed(first, again)
    assert Ballot.objects.filter(poll=poll).count() == 1


def test_without_the_header_a_second_vote_is_refused_as_before(other_client, poll):
    vote(other_client, poll, key=None)

    assert_error(vote(other_client, poll, key=None), 409, "already_voted")
    assert not IdempotencyRecord.objects.exists()


def test_the_same_key_with_another_body_is_refused(other_client, poll):
    first = vote(other_client, poll, "Red")

    assert_error(vote(other_client, poll, "Green"), 422, "idempotency_key_reused")
    assert list(Ballot.objects.get(poll=poll).votes.values_list("option_id", flat=True)) == pick(poll, "Red")
    assert vote(other_client, poll, "Red").content == first.content


def test_the_same_key_on_another_operation_is_refused(other_client, poll):
    vote(other_client, poll)

    response = other_client.post("/api/likes", {"poll_id": str(poll.pk)}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert_error(response, 422, "idempotency_key_reused")
    assert not Like.objects.exists()


def test_a_retry_may_space_and_order_its_json_differently(other_client, poll):
    red = str(pick(poll, "Red")[0])
    first = other_client.post(
        "/api/votes", f'{{"poll_id": "{poll.pk}", "option_ids": ["{red}"]}}', content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )
    again = other_client.post(
        "/api/votes/", f'{{"option_ids":["{red}"],\n"poll_id":"{poll.pk}"}}', content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )

    assert_replayed(first, again)


def test_keys_are_kept_per_caller(client_for, poll):
    mine = vote(client_for(UserFactory()), poll)
    theirs = vote(client_for(UserFactory()), poll)

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs
    assert mine.json()["ballot_id"] != theirs.json()["ballot_id"]
    assert Ballot.objects.filter(poll=poll).count() == 2


def test_a_key_sent_as_a_structured_field_string_is_the_same_key(other_client, poll):
    first = vote(other_client, poll)

    assert_replayed(first, vote(other_client, poll, key=f'"{KEY}"'))


@pytest.mark.parametrize("key", ["short", "x" * 256, "has space-in-it", "naïve-key-value", ""])
def test_a_malformed_key_is_refused_before_anything_is_done(other_client, poll, key):
    assert_error(vote(other_client, poll, key=key), 400, "invalid_idempotency_key")
    assert not Ballot.objects.exists()


# --- anonymous voters -----------------------------------------------------------------------------------


def test_an_anonymous_voter_retries_with_their_anon_id(api_client, poll):
    first = vote(api_client, poll, HTTP_X_ANON_ID=ANON_ID)
    again = vote(api_client, poll, HTTP_X_ANON_ID=ANON_ID)

    assert first.status_code == 201
    assert_replayed(first, again)
    assert Ballot.objects.get(poll=poll).anon_id == ANON_ID


def test_an_anonymous_voter_is_recognised_by_their_cookie_too(api_client, poll):
    api_client.cookies["quickpoll_anon"] = ANON_ID

    assert_replayed(vote(api_client, poll), vote(api_client, poll))
    assert Ballot.objects.get(poll=poll).anon_id == ANON_ID


def test_another_anonymous_voter_with_the_same_key_casts_their_own_ballot(api_client, poll):
    vote(api_client, poll, HTTP_X_ANON_ID=ANON_ID)

    response = vote(api_client, poll, HTTP_X_ANON_ID="another-anon-voter-0002")

    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Ballot.objects.filter(poll=poll).count() == 2


def test_an_anonymous_key_without_an_anon_id_is_refused(api_client, poll):
    # The server would name such a voter afresh on every try: no retry could be recognised.
    assert_error(vote(api_client, poll), 400, "anon_id_required")
    assert not Ballot.objects.exists()


# --- what is kept, and for how long -------------------------------------------------------------------


def test_a_refusal_is_not_kept_so_a_retry_runs_again(other_client, poll):
    Poll.objects.filter(pk=poll.pk).update(is_active=False)
    assert_error(vote(other_client, poll), 403, "poll_closed")
    Poll.objects.filter(pk=poll.pk).update(is_active=True)

    response = vote(other_client, poll)

    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Ballot.objects.filter(poll=poll).count() == 1


def test_a_server_error_is_not_kept(other_client, poll, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("polls.services.cast_vote", broken)
    with pytest.raises(RuntimeError):
        vote(other_client, poll)

    assert not IdempotencyRecord.objects.exists()


def test_a_success_is_answered_even_when_it_cannot_be_kept(other_client, poll, monkeypatch):
    update = QuerySet.update

    def database_gone(queryset, **values):
        if queryset.model is IdempotencyRecord:
            raise DatabaseError("the connection dropped")
        return update(queryset, **values)

    monkeypatch.setattr(QuerySet, "update", database_gone)

    assert vote(other_client, poll).status_code == 201
    assert Ballot.objects.filter(poll=poll).count() == 1


def test_a_kept_answer_is_forgotten_after_its_time(other_client, poll):
    vote(other_client, poll)
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    # No replay: the request runs again, and the voter has voted.
    assert_error(vote(other_client, poll), 409, "already_voted")


def test_a_kept_answer_lasts_the_configured_hours(other_client, other_user, poll, settings):
    settings.IDEMPOTENCY_TTL_HOURS = 3
    before = timezone.now()
    vote(other_client, poll)

    record = IdempotencyRecord.objects.get()
    assert timedelta(hours=3) <= record.expires_at - before < timedelta(hours=3, minutes=1)
    assert (record.caller, record.key, record.status, record.claim) == (f"user:{other_user.pk}", hashed(KEY), 201, None)


def test_the_clock_purges_expired_records_only(other_client, poll, capsys):
    vote(other_client, poll)
    other_client.post("/api/likes", {"poll_id": str(poll.pk)}, format="json", HTTP_IDEMPOTENCY_KEY="an-old-key-from-yesterday")
    IdempotencyRecord.objects.filter(key=hashed("an-old-key-from-yesterday")).update(expires_at=timezone.now())

    call_command("close_expired_polls")

    assert "Forgot 1 response(s) kept for Idempotency-Key retries." in capsys.readouterr().out
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == [hashed(KEY)]


def test_the_database_keeps_neither_the_key_nor_the_answer_readable(other_client, poll):
    """A copy of the table shows no one's answers: each is sealed with the key, which only its hash names."""
    first = vote(other_client, poll)

    record = IdempotencyRecord.objects.get()
    assert KEY not in record.key and str(poll.pk) not in record.body and "Red" not in record.body
    assert vote(other_client, poll).json() == first.json()  # the key opens it again


def test_an_api_key_made_with_an_idempotency_key_is_given_again_but_never_stored_readable(other_client):
    made = other_client.post("/api/keys", {"name": "Sheet", "scopes": ["read"]}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    again = other_client.post("/api/keys", {"name": "Sheet", "scopes": ["read"]}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert made.status_code == again.status_code == 201
    assert again.json()["secret"] == made.json()["secret"] and again.headers["Idempotent-Replayed"] == "true"
    assert ApiKey.objects.count() == 1
    assert made.json()["secret"] not in IdempotencyRecord.objects.get().body


def test_deleting_an_account_drops_the_answers_kept_for_it(other_client, other_user, client_for, poll):
    vote(other_client, poll)
    vote(client_for(UserFactory()), poll)

    delete_account(user=other_user)

    assert not IdempotencyRecord.objects.filter(caller=f"user:{other_user.pk}").exists()
    assert IdempotencyRecord.objects.count() == 1


# --- a key still in flight ------------------------------------------------------------------------------


def claim_in_flight(caller: str, path: str, body: dict, *, claimed_ago=timedelta(0)) -> IdempotencyRecord:
    """A record as the first request leaves it while it works: claimed, nothing kept yet."""
    now = timezone.now()
    return IdempotencyRecord.objects.create(
        caller=caller, key=hashed(KEY), fingerprint=idempotency.fingerprint("POST", path, body), claim=uuid.uuid4(),
        claimed_at=now - claimed_ago, created_at=now, expires_at=now + timedelta(hours=24),
    )


def vote_body(poll, colour="Red") -> dict:
    return {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, colour)[0])]}


def test_a_retry_waits_for_the_first_request_then_gives_up_with_409(other_client, other_user, poll, settings):
    settings.IDEMPOTENCY_WAIT_SECONDS = 0.2
    claim_in_flight(f"user:{other_user.pk}", "/api/votes", vote_body(poll))

    response = vote(other_client, poll)

    assert_error(response, 409, "idempotency_key_in_flight")
    assert response["Retry-After"] == "1"
    assert not Ballot.objects.exists()


def test_a_retry_with_another_body_is_refused_while_the_first_is_in_flight(other_client, other_user, poll):
    claim_in_flight(f"user:{other_user.pk}", "/api/votes", vote_body(poll, "Green"))

    assert_error(vote(other_client, poll, "Red"), 422, "idempotency_key_reused")


def test_a_claim_whose_request_died_is_taken_over(other_client, other_user, poll):
    claim_in_flight(f"user:{other_user.pk}", "/api/votes", vote_body(poll), claimed_ago=timedelta(minutes=5))

    response = vote(other_client, poll)

    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert IdempotencyRecord.objects.get().status == 201


# --- polls, likes and answers ---------------------------------------------------------------------------


def test_a_retried_poll_creation_makes_one_poll(owner_client, owner):
    body = {"title": "Lunch?", "options": ["Soup", "Salad"]}

    first = owner_client.post("/api/polls", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    again = owner_client.post("/api/polls", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == 201
    assert_replayed(first, again)
    assert [str(pk) for pk in Poll.objects.filter(author=owner).values_list("pk", flat=True)] == [first.json()["id"]]


def test_an_anonymous_poll_creation_is_refused_as_before(api_client):
    # Who may create comes first: a key changes nothing about it.
    response = api_client.post("/api/polls", {"title": "Lunch?", "options": ["Soup", "Salad"]}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert_error(response, 401, "login_required")


def test_a_retried_like_likes_once(api_client, poll):
    def like():
        return api_client.post("/api/likes", {"poll_id": str(poll.pk)}, format="json", HTTP_IDEMPOTENCY_KEY=KEY, HTTP_X_ANON_ID=ANON_ID)

    first, again = like(), like()

    assert first.status_code == 201
    assert_replayed(first, again)
    assert Like.objects.filter(poll=poll).count() == 1


def test_a_retried_answer_is_given_once(other_client, owner):
    text_poll = PollFactory(author=owner, method="text", options=[], answers_per_voter=3)

    def answer():
        return other_client.post(f"/api/polls/{text_poll.pk}/answers", {"text": "Sunny"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    first, again = answer(), answer()

    assert first.status_code == 201
    assert_replayed(first, again)
    assert Answer.objects.filter(poll=text_poll).count() == 1


# --- documentation ---------------------------------------------------------------------------------------

IDEMPOTENT_OPERATIONS = [
    ("/api/polls", "post"),
    ("/api/votes", "post"),
    ("/api/likes", "post"),
    ("/api/polls/{poll_id}/answers", "post"),
    ("/api/keys", "post"),
]


def test_the_schema_documents_the_header_and_its_answers(api_client):
    schema = api_client.get("/api/schema?format=json").json()

    for path, method in IDEMPOTENT_OPERATIONS:
        operation = schema["paths"][path][method]
        assert any(parameter["name"] == "Idempotency-Key" for parameter in operation["parameters"]), path
        assert "idempotency_key_reused" in operation["responses"]["422"]["description"], path
        assert "idempotency_key_in_flight" in operation["responses"]["409"]["description"], path
        assert "invalid_idempotency_key" in operation["responses"]["400"]["description"], path
        assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"], path
    # Nowhere else: a retry of any other operation has no kept answer to get.
    elsewhere = [
        (path, method)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
        and any(parameter["name"] == "Idempotency-Key" for parameter in operation.get("parameters", []))
    ]
    assert sorted(elsewhere) == sorted(IDEMPOTENT_OPERATIONS)
