"""/api/votes: casting, taking back and reading votes, for accounts and anonymous visitors."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from polls import services
from polls.models import Ballot, Poll, Vote
from polls.tests.factories import PollFactory, pick, visitor, vote_counts
from polls.voters import ANON_COOKIE, Voter
from quickpoll.tests.assertions import assert_error

pytestmark = pytest.mark.django_db

ANON_ID = "api-client-anon-0001"
OTHER_ANON_ID = "api-client-anon-0002"
VOTE_KEYS = {"id", "poll_id", "option_id", "option_text", "ballot_id", "rank", "score", "created_at"}


def vote(client, poll, *texts, **headers):
    body = {"poll_id": str(poll.pk), "option_ids": [str(option_id) for option_id in pick(poll, *texts)]}
    return client.post("/api/votes", body, format="json", **headers)


def close(poll: Poll, how: str = "inactive") -> None:
    if how == "inactive":
        Poll.objects.filter(pk=poll.pk).update(is_active=False)
    else:
        Poll.objects.filter(pk=poll.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    poll.refresh_from_db()


# --- casting a vote -------------------------------------------------------------------------------


def test_the_readme_example_vote_body_is_accepted(other_client, poll):
    red = pick(poll, "Red")[0]
    body = f'{{"poll_id": "{poll.pk}", "option_ids": ["{red}"]}}'

    response = other_client.post("/api/votes", body, content_type="application/json")

    assert response.status_code == 201
    assert set(response.json()) == {"ballot_id", "votes", "results", "receipt"}
    assert response.json()["receipt"] is None  # receipts are for secret polls


def test_an_account_vote_answers_the_votes_and_the_results(other_client, other_user, poll):
    response = vote(other_client, poll, "Green")

    assert response.status_code == 201
    body = response.json()
    ballot = Ballot.objects.get()
    assert (body["ballot_id"], ballot.user, ballot.anon_id) == (str(ballot.pk), other_user, "")
    [recorded] = body["votes"]
    assert set(recorded) == VOTE_KEYS
    assert (recorded["poll_id"], recorded["option_id"], recorded["option_text"], recorded["ballot_id"]) == (
        str(poll.pk),
        str(pick(poll, "Green")[0]),
        "Green",
        str(ballot.pk),
    )
    assert body["results"]["total_votes"] == 1
    assert [(o["text"], o["votes"], o["percentage"]) for o in body["results"]["options"]] == [
        ("Red", 0, 0.0),
        ("Green", 1, 100.0),
        ("Blue", 0, 0.0),
    ]
    assert vote_counts(poll) == (1, 1, 1)
    # An account needs no anonymous id.
    assert ANON_COOKIE not in response.cookies


def test_a_multiple_choice_vote_records_every_option(other_client, multi_poll):
    response = vote(other_client, multi_poll, "Red", "Blue")

    assert response.status_code == 201
    assert sorted(v["option_text"] for v in response.json()["votes"]) == ["Blue", "Red"]
    assert vote_counts(multi_poll) == (2, 2, 2)


def test_a_second_vote_is_refused(other_client, poll):
    vote(other_client, poll, "Red")

    assert_error(vote(other_client, poll, "Blue"), 409, "already_voted")
    assert vote_counts(poll) == (1, 1, 1)
    assert poll.options.get(text="Blue").vote_count == 0


def test_an_anonymous_vote_issues_a_cookie_that_recognises_the_visitor(api_client, poll):
    first = vote(api_client, poll, "Red")

    assert first.status_code == 201
    cookie = first.cookies[ANON_COOKIE]
    assert cookie["httponly"] and cookie.value
    assert first.headers["X-Anon-Id"] == cookie.value
    assert Ballot.objects.get().anon_id == cookie.value

    # The client sends the cookie back.
    again = vote(api_client, poll, "Blue")

    assert_error(again, 409, "already_voted")
    assert ANON_COOKIE not in again.cookies
    assert vote_counts(poll) == (1, 1, 1)


def test_x_anon_id_identifies_an_api_client(client_for, poll):
    first = vote(client_for(), poll, "Red", HTTP_X_ANON_ID=ANON_ID)

    assert first.status_code == 201
    assert ANON_COOKIE not in first.cookies  # the client chose its own id
    assert Ballot.objects.get().anon_id == ANON_ID
    assert_error(vote(client_for(), poll, "Green", HTTP_X_ANON_ID=ANON_ID), 409, "already_voted")
    assert vote(client_for(), poll, "Green", HTTP_X_ANON_ID=OTHER_ANON_ID).status_code == 201
    assert vote_counts(poll) == (2, 2, 2)


@pytest.mark.parametrize("anon_id", ["short", "x" * 65, "has spaces in it!!", "ümlaut-ümlaut-ümlaut"])
def test_a_malformed_x_anon_id_is_refused(api_client, poll, anon_id):
    response = vote(api_client, poll, "Red", HTTP_X_ANON_ID=anon_id)

    assert_error(response, 400, "invalid_anon_id")
    assert not Ballot.objects.exists()


def test_a_members_only_poll_refuses_anonymous_votes(api_client, other_client, owner):
    members_only = PollFactory(author=owner, allow_anonymous=False)

    response = vote(api_client, members_only, "Red")

    assert_error(response, 401, "login_required")
    assert ANON_COOKIE not in response.cookies
    assert vote(other_client, members_only, "Red").status_code == 201
    assert vote_counts(members_only) == (1, 1, 1)


@pytest.mark.parametrize("how", ["inactive", "expired"])
@pytest.mark.parametrize("voter", ["account", "anonymous"])
def test_a_closed_poll_refuses_votes(client_for, other_user, owner, how, voter):
    poll = PollFactory(author=owner, expires_at=timezone.now() + timedelta(hours=1))
    close(poll, how)
    client = client_for(other_user if voter == "account" else None)

    assert_error(vote(client, poll, "Red"), 403, "poll_closed")
    assert vote_counts(poll) == (0, 0, 0)


def test_an_option_of_another_poll_is_refused(other_client, poll, multi_poll):
    body = {"poll_id": str(poll.pk), "option_ids": [str(pick(multi_poll, "Red")[0])]}

    assert_error(other_client.post("/api/votes", body, format="json"), 400, "invalid_option")
    assert not Ballot.objects.exists()


@pytest.mark.parametrize("option_ids", [[], [str(uuid.uuid4())]], ids=["empty", "unknown"])
def test_no_option_or_an_unknown_option_is_refused(other_client, poll, option_ids):
    response = other_client.post("/api/votes", {"poll_id": str(poll.pk), "option_ids": option_ids}, format="json")

    assert_error(response, 400, "invalid_option")
    assert not Ballot.objects.exists()


def test_a_single_choice_poll_takes_one_option(other_client, poll):
    assert_error(vote(other_client, poll, "Red", "Green"), 400, "too_many_options")
    assert vote_counts(poll) == (0, 0, 0)


def test_a_multiple_choice_poll_takes_at_most_max_choices(other_client, multi_poll):
    assert_error(vote(other_client, multi_poll, "Red", "Green", "Blue"), 400, "too_many_options")
    assert vote_counts(multi_poll) == (0, 0, 0)


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("poll-id", {"poll_id"}),
        ("option-id", {"option_ids"}),
        ("option-ids-not-a-list", {"option_ids"}),
        ("empty", {"poll_id"}),  # a body without options is a ballot of the score shape: poll_id is what is missing
    ],
)
def test_malformed_ids_are_refused(other_client, poll, kind, fields):
    red = str(pick(poll, "Red")[0])
    body = {
        "poll-id": {"poll_id": "not-a-uuid", "option_ids": [red]},
        "option-id": {"poll_id": str(poll.pk), "option_ids": ["not-a-uuid"]},
        "option-ids-not-a-list": {"poll_id": str(poll.pk), "option_ids": red},
        "empty": {},
    }[kind]

    assert_error(other_client.post("/api/votes", body, format="json"), 400, "invalid", fields=fields)
    assert not Ballot.objects.exists()


def test_an_unknown_poll_is_not_found(other_client, poll):
    body = {"poll_id": str(uuid.uuid4()), "option_ids": [str(pick(poll, "Red")[0])]}

    assert_error(other_client.post("/api/votes", body, format="json"), 404, "not_found")
    assert not Ballot.objects.exists()


def test_anonymous_ballots_per_ip_are_capped(client_for, other_user, poll, settings):
    settings.ANONYMOUS_BALLOTS_PER_IP = 2
    for number in (1, 2):
        assert vote(client_for(), poll, "Red", HTTP_X_ANON_ID=f"{ANON_ID}-{number}").status_code == 201

    capped = vote(client_for(), poll, "Red", HTTP_X_ANON_ID=f"{ANON_ID}-3")

    assert_error(capped, 429, "anonymous_limit")
    # Another address, and an account on the same address, still vote.
    assert vote(client_for(), poll, "Red", HTTP_X_ANON_ID=f"{ANON_ID}-4", REMOTE_ADDR="198.51.100.9").status_code == 201
    assert vote(client_for(other_user), poll, "Red").status_code == 201
    assert vote_counts(poll) == (4, 4, 4)


@pytest.mark.parametrize(
    ("mode", "voter", "shown"),
    [
        ("always", "account", True),
        ("after_vote", "account", True),
        ("after_vote", "anonymous", True),
        ("after_close", "account", False),
        ("owner_only", "account", False),
        ("owner_only", "anonymous", False),
        ("owner_only", "owner", True),
    ],
)
def test_the_vote_answer_carries_results_only_where_visible(client_for, owner, other_user, mode, voter, shown):
    poll = PollFactory(author=owner, results_visibility=mode)
    client = client_for({"account": other_user, "owner": owner}.get(voter))

    response = vote(client, poll, "Red")

    assert response.status_code == 201
    results = response.json()["results"]
    if shown:
        assert results["total_votes"] == 1
        assert [o["votes"] for o in results["options"]] == [1, 0, 0]
    else:
        assert results is None
    assert len(response.json()["votes"]) == 1


# --- taking back my ballot --------------------------------------------------------------------------


@pytest.mark.parametrize("voter", ["account", "anonymous"])
def test_retracting_my_ballot_lets_me_vote_again(client_for, other_user, multi_poll, voter):
    client = client_for(other_user if voter == "account" else None)
    vote(client, multi_poll, "Red", "Green")  # the anonymous client keeps its cookie

    response = client.delete(f"/api/votes/poll/{multi_poll.pk}")

    assert response.status_code == 204
    assert vote_counts(multi_poll) == (0, 0, 0)
    assert not Ballot.objects.exists()
    assert vote(client, multi_poll, "Blue").status_code == 201
    assert vote_counts(multi_poll) == (1, 1, 1)
    assert dict(multi_poll.options.values_list("text", "vote_count")) == {"Red": 0, "Green": 0, "Blue": 1}


def test_retracting_leaves_other_ballots_alone(other_client, poll, owner):
    services.cast_vote(poll=poll, voter=Voter(user=owner), option_ids=pick(poll, "Red"))
    vote(other_client, poll, "Red")

    assert other_client.delete(f"/api/votes/poll/{poll.pk}").status_code == 204

    assert vote_counts(poll) == (1, 1, 1)
    assert Ballot.objects.get().user == owner


@pytest.mark.parametrize("voter", ["account", "anonymous-with-id", "anonymous-without-id"])
def test_retracting_without_a_ballot_is_not_found(client_for, other_user, poll, voter):
    services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Red"))
    client = client_for(other_user if voter == "account" else None)
    headers = {"HTTP_X_ANON_ID": ANON_ID} if voter == "anonymous-with-id" else {}

    assert_error(client.delete(f"/api/votes/poll/{poll.pk}", **headers), 404, "not_found")
    assert vote_counts(poll) == (1, 1, 1)


def test_a_closed_poll_keeps_my_ballot(other_client, poll):
    vote(other_client, poll, "Red")
    close(poll)

    assert_error(other_client.delete(f"/api/votes/poll/{poll.pk}"), 403, "poll_closed")
    assert vote_counts(poll) == (1, 1, 1)


# --- changing my vote -------------------------------------------------------------------------------


def change(client, poll, *texts, **headers):
    body = {"option_ids": [str(option_id) for option_id in pick(poll, *texts)]}
    return client.put(f"/api/votes/poll/{poll.pk}", body, format="json", **headers)


@pytest.mark.parametrize("voter", ["account", "anonymous"])
def test_changing_my_vote_replaces_the_ballot_in_one_step(client_for, other_user, multi_poll, voter):
    client = client_for(other_user if voter == "account" else None)
    vote(client, multi_poll, "Red", "Green")

    response = change(client, multi_poll, "Blue")

    assert response.status_code == 200
    body = response.json()
    assert [recorded["option_text"] for recorded in body["votes"]] == ["Blue"]
    assert [o["votes"] for o in body["results"]["options"]] == [0, 0, 1]
    assert str(Ballot.objects.get().pk) == body["ballot_id"]
    assert dict(multi_poll.options.values_list("text", "vote_count")) == {"Red": 0, "Green": 0, "Blue": 1}


def test_a_refused_change_keeps_the_vote_as_it_was(other_client, multi_poll):
    vote(other_client, multi_poll, "Red")

    assert_error(change(other_client, multi_poll, "Red", "Green", "Blue"), 400, "too_many_options")
    assert_error(other_client.put(f"/api/votes/poll/{multi_poll.pk}", {"option_ids": ["nope"]}, format="json"), 400, "invalid", fields=["option_ids"])

    assert dict(multi_poll.options.values_list("text", "vote_count")) == {"Red": 1, "Green": 0, "Blue": 0}


def test_changing_without_a_ballot_is_not_found(other_client, poll):
    assert_error(change(other_client, poll, "Red"), 404, "not_found")
    assert not Ballot.objects.exists()


def test_a_closed_poll_keeps_my_vote_unchanged(other_client, poll):
    vote(other_client, poll, "Red")
    close(poll)

    assert_error(change(other_client, poll, "Green"), 403, "poll_closed")
    assert vote_counts(poll) == (1, 1, 1)


def test_a_secret_ballot_cannot_be_changed(other_client, owner):
    secret = PollFactory(author=owner, is_secret=True, results_visibility=Poll.ResultsVisibility.AFTER_CLOSE)
    vote(other_client, secret, "Red")

    assert_error(change(other_client, secret, "Green"), 409, "secret_ballot_final")
    assert dict(secret.options.values_list("text", "vote_count")) == {"Red": 1, "Green": 0, "Blue": 0}


# --- a poll's votes --------------------------------------------------------------------------------


@pytest.fixture
def voted_poll(poll, other_user):
    """Two ballots on `poll`: other_user (Red) from 198.51.100.5, and an anonymous visitor (Blue)."""
    services.cast_vote(
        poll=poll, voter=Voter(user=other_user, ip_address="198.51.100.5", user_agent="OtherBrowser/1"), option_ids=pick(poll, "Red")
    )
    anonymous = Voter(anon_id=ANON_ID, ip_address="198.51.100.6", user_agent="AnonBrowser/2")
    services.cast_vote(poll=poll, voter=anonymous, option_ids=pick(poll, "Blue"))
    return poll


def test_the_author_sees_a_polls_votes_without_ips(owner_client, voted_poll):
    response = owner_client.get(f"/api/votes/poll/{voted_poll.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    voters = {vote["option_text"]: vote["voter"] for vote in body["results"]}
    assert voters["Red"]["kind"] == "account" and voters["Red"]["user"]["username"] == "other"
    assert voters["Blue"] == {"kind": "anonymous", "user": None}
    text = response.content.decode()
    for private in ("198.51.100.", "Browser", "@example.com", ANON_ID):
        assert private not in text


def test_staff_see_a_polls_votes_with_ips_and_browsers(staff_api_client, voted_poll):
    response = staff_api_client.get(f"/api/votes/poll/{voted_poll.pk}")

    assert response.status_code == 200
    voters = {vote["option_text"]: vote["voter"] for vote in response.json()["results"]}
    assert (voters["Red"]["ip_address"], voters["Red"]["user_agent"]) == ("198.51.100.5", "OtherBrowser/1")
    assert (voters["Blue"]["ip_address"], voters["Blue"]["user_agent"]) == ("198.51.100.6", "AnonBrowser/2")
    assert "@example.com" not in response.content.decode()


def test_others_cannot_see_a_polls_votes(other_client, api_client, voted_poll):
    assert_error(other_client.get(f"/api/votes/poll/{voted_poll.pk}"), 403, "not_owner")
    assert_error(api_client.get(f"/api/votes/poll/{voted_poll.pk}"), 401, "login_required")


# --- vote statistics ---------------------------------------------------------------------------------


def test_vote_stats_count_voters_and_votes_per_hour(api_client, multi_poll, owner, other_user):
    services.cast_vote(poll=multi_poll, voter=Voter(user=other_user), option_ids=pick(multi_poll, "Red", "Green"))
    services.cast_vote(poll=multi_poll, voter=Voter(user=owner), option_ids=pick(multi_poll, "Red"))
    services.cast_vote(poll=multi_poll, voter=visitor(1), option_ids=pick(multi_poll, "Blue"))
    earlier = timezone.now().replace(minute=10, second=0, microsecond=0) - timedelta(hours=5)
    later = earlier + timedelta(hours=3, minutes=20)
    Vote.objects.filter(ballot__user=other_user).update(created_at=earlier)
    Vote.objects.exclude(ballot__user=other_user).update(created_at=later)

    response = api_client.get(f"/api/votes/poll/{multi_poll.pk}/stats")

    assert response.status_code == 200
    body = response.json()
    assert body["total_votes"] == 4
    assert [(o["text"], o["votes"], o["percentage"]) for o in body["options"]] == [
        ("Red", 2, 50.0),
        ("Green", 1, 25.0),
        ("Blue", 1, 25.0),
    ]
    assert {key: body[key] for key in ("unique_voters", "account_voters", "anonymous_voters")} == {
        "unique_voters": 3,
        "account_voters": 2,
        "anonymous_voters": 1,
    }
    assert (body["account_votes"], body["anonymous_votes"]) == (3, 1)
    assert body["votes_per_hour"] == [
        {"hour": earlier.replace(minute=0).isoformat(), "votes": 2},
        {"hour": later.replace(minute=0).isoformat(), "votes": 2},
    ]


@pytest.mark.parametrize(
    ("mode", "viewer", "voted", "allowed"),
    [
        ("after_vote", "anonymous", False, False),
        ("after_vote", "anonymous", True, True),
        ("after_vote", "other_user", False, False),
        ("after_vote", "other_user", True, True),
        ("after_close", "other_user", True, False),
        ("owner_only", "other_user", True, False),
        ("owner_only", "owner", False, True),
        ("owner_only", "staff_user", False, True),
    ],
)
def test_vote_stats_follow_the_results_rule(request, client_for, owner, mode, viewer, voted, allowed):
    poll = PollFactory(author=owner, results_visibility=mode)
    user = request.getfixturevalue(viewer) if viewer != "anonymous" else None
    headers = {"HTTP_X_ANON_ID": ANON_ID} if user is None else {}
    if voted:
        services.cast_vote(poll=poll, voter=Voter(user=user, anon_id="" if user else ANON_ID), option_ids=pick(poll, "Red"))

    response = client_for(user).get(f"/api/votes/poll/{poll.pk}/stats", **headers)

    if allowed:
        assert response.status_code == 200
        assert response.json()["total_votes"] == int(voted)
    else:
        body = assert_error(response, 403, "results_hidden")
        assert body["detail"].startswith(("Results show", "Only the poll's author"))


# --- a user's votes -------------------------------------------------------------------------------------


@pytest.fixture
def others_votes(other_user, poll, multi_poll):
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Red"))
    services.cast_vote(poll=multi_poll, voter=Voter(user=other_user), option_ids=pick(multi_poll, "Green", "Blue"))
    services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Blue"))


@pytest.mark.parametrize("viewer", ["other_user", "staff_user"])
def test_a_user_and_staff_see_that_users_votes(request, client_for, other_user, others_votes, viewer):
    response = client_for(request.getfixturevalue(viewer)).get(f"/api/votes/user/{other_user.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert sorted(vote["option_text"] for vote in body["results"]) == ["Blue", "Green", "Red"]
    assert set(body["results"][0]) == VOTE_KEYS


def test_others_cannot_see_a_users_votes(owner_client, api_client, other_user, others_votes):
    assert_error(owner_client.get(f"/api/votes/user/{other_user.pk}"), 403, "not_owner")
    assert_error(api_client.get(f"/api/votes/user/{other_user.pk}"), 401, "login_required")


# --- one vote -----------------------------------------------------------------------------------------------


@pytest.fixture
def account_vote(other_user, multi_poll) -> Vote:
    """other_user's vote for Red on multi_poll (the ballot also holds Green)."""
    services.cast_vote(
        poll=multi_poll, voter=Voter(user=other_user, ip_address="198.51.100.5"), option_ids=pick(multi_poll, "Red", "Green")
    )
    return Vote.objects.get(option__text="Red", poll=multi_poll)


@pytest.fixture
def anonymous_vote(multi_poll) -> Vote:
    services.cast_vote(poll=multi_poll, voter=Voter(anon_id=ANON_ID, ip_address="198.51.100.6"), option_ids=pick(multi_poll, "Blue"))
    return Vote.objects.get(option__text="Blue", poll=multi_poll)


@pytest.mark.parametrize(("viewer", "sees_ip"), [("other_user", False), ("owner", False), ("staff_user", True)])
def test_the_voter_author_and_staff_see_one_vote(request, client_for, account_vote, viewer, sees_ip):
    response = client_for(request.getfixturevalue(viewer)).get(f"/api/votes/{account_vote.pk}")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["option_text"], body["voter"]["kind"]) == (str(account_vote.pk), "Red", "account")
    assert ("ip_address" in body["voter"]) is sees_ip
    assert "@example.com" not in response.content.decode()


def test_an_anonymous_voter_sees_their_vote_by_x_anon_id(api_client, anonymous_vote):
    response = api_client.get(f"/api/votes/{anonymous_vote.pk}", HTTP_X_ANON_ID=ANON_ID)

    assert response.status_code == 200
    assert response.json()["voter"] == {"kind": "anonymous", "user": None}
    assert_error(api_client.get(f"/api/votes/{anonymous_vote.pk}", HTTP_X_ANON_ID=OTHER_ANON_ID), 403, "not_owner")


@pytest.mark.parametrize("viewer", ["bystander", None])
def test_others_cannot_see_one_vote(client_for, account_vote, viewer):
    client = client_for(UserFactory(username="bystander") if viewer else None)

    assert_error(client.get(f"/api/votes/{account_vote.pk}"), 403, "not_owner")


def test_the_voter_takes_back_one_vote_and_the_counters_follow(other_client, account_vote, multi_poll):
    response = other_client.delete(f"/api/votes/{account_vote.pk}")

    assert response.status_code == 204
    assert not Vote.objects.filter(pk=account_vote.pk).exists()
    assert vote_counts(multi_poll) == (1, 1, 1)
    assert dict(multi_poll.options.values_list("text", "vote_count")) == {"Red": 0, "Green": 1, "Blue": 0}
    assert Ballot.objects.filter(pk=account_vote.ballot_id).exists()  # Green is still on it


def test_an_anonymous_voter_takes_back_their_vote(api_client, anonymous_vote, multi_poll):
    assert api_client.delete(f"/api/votes/{anonymous_vote.pk}", HTTP_X_ANON_ID=ANON_ID).status_code == 204

    assert vote_counts(multi_poll) == (0, 0, 0)
    assert not Ballot.objects.exists()


@pytest.mark.parametrize("taker", ["owner", "bystander", None])
def test_others_cannot_take_back_a_vote(client_for, owner, account_vote, multi_poll, taker):
    user = {"owner": owner, "bystander": UserFactory(username="bystander")}.get(taker)

    assert_error(client_for(user).delete(f"/api/votes/{account_vote.pk}"), 403, "not_owner")
    assert vote_counts(multi_poll) == (2, 2, 2)


@pytest.mark.parametrize("how", ["open", "inactive", "expired"])
def test_staff_take_back_any_vote_even_on_a_closed_poll(staff_api_client, account_vote, multi_poll, how):
    if how != "open":
        close(multi_poll, how)

    assert staff_api_client.delete(f"/api/votes/{account_vote.pk}").status_code == 204
    assert vote_counts(multi_poll) == (1, 1, 1)


@pytest.mark.parametrize("how", ["inactive", "expired"])
def test_the_voter_cannot_take_back_a_vote_once_the_poll_closed(other_client, account_vote, multi_poll, how):
    close(multi_poll, how)

    assert_error(other_client.delete(f"/api/votes/{account_vote.pk}"), 403, "poll_closed")
    assert vote_counts(multi_poll) == (2, 2, 2)


# --- missing objects and wrong methods ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/votes/{id}"),
        ("delete", "/api/votes/{id}"),
        ("get", "/api/votes/poll/{id}"),
        ("delete", "/api/votes/poll/{id}"),
        ("get", "/api/votes/poll/{id}/stats"),
        ("get", "/api/votes/user/{id}"),
    ],
)
def test_unknown_ids_are_not_found(staff_api_client, method, path):
    response = getattr(staff_api_client, method)(path.format(id=uuid.uuid4()))

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("path", ["/api/votes/nope", "/api/votes/poll/nope", "/api/votes/user/123/extra"])
def test_vote_paths_without_a_uuid_are_not_found(staff_api_client, path):
    assert_error(staff_api_client.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/votes"),
        ("put", "/api/votes/{vote}"),
        ("patch", "/api/votes/{vote}"),
        ("post", "/api/votes/{vote}"),
        ("post", "/api/votes/poll/{poll}"),
        ("delete", "/api/votes/poll/{poll}/stats"),
        ("post", "/api/votes/user/{user}"),
    ],
)
def test_wrong_methods_are_refused(staff_api_client, account_vote, multi_poll, other_user, method, path):
    url = path.format(vote=account_vote.pk, poll=multi_poll.pk, user=other_user.pk)

    assert_error(getattr(staff_api_client, method)(url, {}, format="json"), 405, "method_not_allowed")
    assert vote_counts(multi_poll) == (2, 2, 2)


@pytest.mark.parametrize("path", ["/api/votes", "/api/votes/"])
def test_votes_are_cast_with_or_without_a_trailing_slash(other_client, poll, path):
    response = other_client.post(path, {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Red")[0])]}, format="json")

    assert response.status_code == 201
    assert vote_counts(poll) == (1, 1, 1)
