"""/api/polls/{poll_id}/invites and voting with an invite over the API."""

import csv
import io
import uuid

import pytest
from django.core import mail

from polls import invites
from polls.models import Ballot, Invite
from polls.tests.factories import PollFactory, pick

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_group(owner):
    return PollFactory(author=owner, title="Club vote", invite_only=True)


def url(poll, tail: str = "") -> str:
    return f"/api/polls/{poll.pk}/invites{tail}"


def vote_body(poll, **extra) -> dict:
    return {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Red")[0])], **extra}


def make(poll, count=1) -> list[Invite]:
    return invites.create_invites(poll=poll, actor=poll.author, count=count)


# --- Voting -------------------------------------------------------------------------------------------


def test_voting_without_an_invite_is_invite_required(api_client, closed_group):
    response = api_client.post("/api/votes", vote_body(closed_group), format="json")
    assert (response.status_code, response.json()["code"]) == (403, "invite_required")


@pytest.mark.parametrize("how", ["body", "header"])
def test_an_invite_in_the_body_or_the_header_admits_one_ballot(api_client, client_for, closed_group, how):
    [invite] = make(closed_group)

    def send(client, anon_id):
        extra = {"invite": invite.token} if how == "body" else {}
        headers = {"HTTP_X_INVITE": invite.token} if how == "header" else {}
        return client.post("/api/votes", vote_body(closed_group, **extra), format="json", HTTP_X_ANON_ID=anon_id, **headers)

    assert send(api_client, "first-invited-voter").status_code == 201
    second = send(client_for(), "second-invited-voter")
    assert (second.status_code, second.json()["code"]) == (409, "invite_used")
    assert Ballot.objects.get(poll=closed_group).invite == invite


@pytest.mark.parametrize(
    "token, code",
    [("no-such-invite-token", "invite_invalid"), ("revoked", "invite_revoked")],
)
def test_a_wrong_or_revoked_invite_gets_its_code(api_client, closed_group, token, code):
    [invite] = make(closed_group)
    if token == "revoked":
        invites.revoke_unused_invites(poll=closed_group, actor=closed_group.author)
        token = invite.token
    response = api_client.post("/api/votes", vote_body(closed_group, invite=token), format="json")
    assert (response.status_code, response.json()["code"]) == (403, code)


def test_an_overlong_invite_in_the_body_is_a_field_error(api_client, closed_group):
    response = api_client.post("/api/votes", vote_body(closed_group, invite="x" * 65), format="json")
    assert response.status_code == 400
    assert "invite" in response.json()["fields"]


def test_invite_only_is_set_on_create_and_shown(owner_client):
    response = owner_client.post("/api/polls", {"title": "Club", "options": ["A", "B"], "invite_only": True}, format="json")
    assert response.status_code == 201
    assert response.json()["invite_only"] is True
    assert response.json()["can_vote"] is False


# --- Managing ----------------------------------------------------------------------------------------


def test_the_author_makes_lists_and_counts_invites(owner_client, closed_group):
    response = owner_client.post(url(closed_group), {"count": 3, "label": "Board"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["emailed"] == 0
    assert len(body["invites"]) == 3
    first = body["invites"][0]
    assert first["link"] == f"http://testserver/i/{first['token']}"
    assert (first["label"], first["status"]) == ("Board", "unused")

    listing = owner_client.get(url(closed_group)).json()
    assert listing["count"] == 3
    assert listing["counts"] == {"total": 3, "used": 0, "revoked": 0, "unused": 3}


def test_invites_from_addresses_are_mailed(owner_client, closed_group, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url(closed_group), {"emails": ["ann@example.com", "bob@example.com"]}, format="json")
    assert response.status_code == 201
    assert response.json()["emailed"] == 2
    tokens = {invite["email"]: invite["token"] for invite in response.json()["invites"]}
    assert {message.to[0] for message in mail.outbox} == {"ann@example.com", "bob@example.com"}
    ann = next(message for message in mail.outbox if message.to == ["ann@example.com"])
    assert f"http://testserver/i/{tokens['ann@example.com']}" in ann.body


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "count"),
        ({"count": 501}, "count"),
        ({"count": 10**30}, "count"),
        ({"count": -1}, "count"),
        ({"count": "many"}, "count"),
        ({"emails": ["nope"]}, "emails"),
        ({"emails": "ann@example.com"}, "emails"),
        ({"emails": [None]}, "emails"),
        ({"emails": [{"a": 1}]}, "emails"),
        ({"count": 1, "label": ["x"]}, "label"),
    ],
)
def test_bad_bodies_are_400_with_the_field(owner_client, closed_group, body, field):
    response = owner_client.post(url(closed_group), body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]


def test_used_invites_show_as_used_and_revoke_unused_spares_them(owner_client, api_client, closed_group):
    first, second = make(closed_group, 2)
    api_client.post("/api/votes", vote_body(closed_group, invite=first.token), format="json")
    response = owner_client.post(url(closed_group, "/revoke-unused"))
    assert response.json() == {"revoked": 1}
    statuses = {row["token"]: row["status"] for row in owner_client.get(url(closed_group)).json()["results"]}
    assert statuses == {first.token: "used", second.token: "revoked"}


def test_revoking_one_invite(owner_client, closed_group):
    [invite] = make(closed_group)
    response = owner_client.post(url(closed_group, f"/{invite.pk}/revoke"))
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert response.json()["revoked_at"] is not None


def test_revoking_another_polls_invite_is_404(owner_client, closed_group, owner):
    [foreign] = make(PollFactory(author=owner, invite_only=True))
    assert owner_client.post(url(closed_group, f"/{foreign.pk}/revoke")).status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_the_csv_export(owner_client, closed_group):
    [invite] = make(closed_group)
    response = owner_client.get(url(closed_group, "/export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][:4] == [f"http://testserver/i/{invite.token}", "", "", "unused"]


@pytest.mark.parametrize("tail, method", [("", "get"), ("", "post"), ("/revoke-unused", "post"), ("/export", "get")])
def test_other_users_and_anonymous_visitors_are_refused(client_for, other_user, closed_group, tail, method):
    assert getattr(client_for(), method)(url(closed_group, tail), {"count": 1}, format="json").json()["code"] == "login_required"
    response = getattr(client_for(other_user), method)(url(closed_group, tail), {"count": 1}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "not_owner")
    assert not Invite.objects.exists()


def test_moderators_manage_invites(staff_api_client, closed_group):
    assert staff_api_client.post(url(closed_group), {"count": 1}, format="json").status_code == 201


def test_a_missing_poll_or_invite_is_404(owner_client, closed_group):
    assert owner_client.get(f"/api/polls/{uuid.uuid4()}/invites").status_code == 404
    assert owner_client.post(url(closed_group, f"/{uuid.uuid4()}/revoke")).status_code == 404


@pytest.mark.parametrize("tail, method", [("", "delete"), ("/revoke-unused", "get"), ("/export", "post")])
def test_wrong_methods_are_405(owner_client, closed_group, tail, method):
    response = getattr(owner_client, method)(url(closed_group, tail))
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")


def test_making_invites_has_a_rate_limit(owner_client, closed_group, settings):
    settings.RATE_LIMIT_ENABLED = True
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_INVITE_REQUESTS = 2
    codes = [owner_client.post(url(closed_group), {"count": 1}, format="json").status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_the_schema_documents_invites(api_client):
    schema = api_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"/api/polls/{poll_id}/invites", "/api/polls/{poll_id}/invites/{id}/revoke"} <= set(schema["paths"])
    vote = schema["paths"]["/api/votes"]["post"]
    assert "X-Invite" in {parameter["name"] for parameter in vote["parameters"]}


@pytest.mark.parametrize("invite", [None, 5, ["token"], {"a": 1}, ""])
def test_a_malformed_invite_in_a_vote_is_a_clean_4xx(api_client, closed_group, invite):
    response = api_client.post("/api/votes", vote_body(closed_group, invite=invite), format="json")
    assert 400 <= response.status_code < 500
    assert response.json()["code"] in {"invalid", "invite_required", "invite_invalid"}
