"""/api/likes: liking and unliking polls, for accounts and anonymous visitors; likes_count follows every step."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from polls import services
from polls.models import Like, Poll
from polls.tests.factories import PollFactory, like_counts, visitor
from polls.voters import ANON_COOKIE, Voter
from quickpoll.tests.assertions import assert_error

pytestmark = pytest.mark.django_db

ANON_ID = "api-client-anon-0001"


def like(client, poll, **headers):
    return client.post("/api/likes", {"poll_id": str(poll.pk)}, format="json", **headers)


@pytest.fixture
def others_like(other_user, poll) -> Like:
    return services.like_poll(poll=poll, voter=Voter(user=other_user))


# --- liking ---------------------------------------------------------------------------------------------


def test_liking_a_poll_answers_its_likes_count(other_client, other_user, poll):
    services.like_poll(poll=poll, voter=visitor(1))

    response = like(other_client, poll)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "poll_id", "likes_count", "created_at"}
    assert (body["poll_id"], body["likes_count"]) == (str(poll.pk), 2)
    assert Like.objects.get(pk=body["id"]).user == other_user
    assert like_counts(poll) == (2, 2)


def test_a_second_like_is_refused(other_client, poll):
    like(other_client, poll)

    assert_error(like(other_client, poll), 409, "already_liked")
    assert like_counts(poll) == (1, 1)


def test_an_anonymous_like_issues_a_cookie_that_recognises_the_visitor(api_client, poll):
    first = like(api_client, poll)

    assert first.status_code == 201
    anon_id = first.cookies[ANON_COOKIE].value
    assert first.headers["X-Anon-Id"] == anon_id
    assert Like.objects.get().anon_id == anon_id
    assert like_counts(poll) == (1, 1)

    assert_error(like(api_client, poll), 409, "already_liked")
    assert like_counts(poll) == (1, 1)


def test_x_anon_id_identifies_an_api_client(client_for, poll):
    assert like(client_for(), poll, HTTP_X_ANON_ID=ANON_ID).status_code == 201

    assert_error(like(client_for(), poll, HTTP_X_ANON_ID=ANON_ID), 409, "already_liked")
    assert like(client_for(), poll, HTTP_X_ANON_ID="api-client-anon-0002").status_code == 201
    assert like_counts(poll) == (2, 2)


def test_a_members_only_poll_refuses_anonymous_likes(api_client, other_client, owner):
    members_only = PollFactory(author=owner, allow_anonymous=False)

    assert_error(like(api_client, members_only), 401, "login_required")
    assert like(other_client, members_only).status_code == 201
    assert like_counts(members_only) == (1, 1)


@pytest.mark.parametrize("how", ["inactive", "expired"])
def test_a_closed_poll_refuses_likes(other_client, poll, how):
    if how == "inactive":
        Poll.objects.filter(pk=poll.pk).update(is_active=False)
    else:
        Poll.objects.filter(pk=poll.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert_error(like(other_client, poll), 403, "poll_closed")
    assert like_counts(poll) == (0, 0)


def test_a_malformed_x_anon_id_is_refused(api_client, poll):
    assert_error(like(api_client, poll, HTTP_X_ANON_ID="bad id"), 400, "invalid_anon_id")
    assert like_counts(poll) == (0, 0)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [({}, 400, "invalid"), ({"poll_id": "nope"}, 400, "invalid"), ({"poll_id": "{unknown}"}, 404, "not_found")],
)
def test_a_like_needs_a_known_poll(other_client, poll, body, status, code):
    body = {key: value.format(unknown=uuid.uuid4()) for key, value in body.items()}

    response = other_client.post("/api/likes", body, format="json")

    assert_error(response, status, code, fields={"poll_id"} if status == 400 else None)
    assert not Like.objects.exists()


# --- unliking by id ---------------------------------------------------------------------------------------


def test_the_liker_unlikes_by_like_id(other_client, others_like, poll):
    services.like_poll(poll=poll, voter=visitor(1))

    assert other_client.delete(f"/api/likes/{others_like.pk}").status_code == 204

    assert not Like.objects.filter(pk=others_like.pk).exists()
    assert like_counts(poll) == (1, 1)


def test_an_anonymous_liker_unlikes_by_like_id(api_client, poll):
    like(api_client, poll, HTTP_X_ANON_ID=ANON_ID)
    anonymous_like = Like.objects.get()

    assert api_client.delete(f"/api/likes/{anonymous_like.pk}", HTTP_X_ANON_ID=ANON_ID).status_code == 204
    assert like_counts(poll) == (0, 0)


@pytest.mark.parametrize("taker", ["owner", "bystander", None])
def test_others_cannot_unlike_someone_elses_like(client_for, owner, others_like, poll, taker):
    user = {"owner": owner, "bystander": UserFactory(username="bystander")}.get(taker)

    assert_error(client_for(user).delete(f"/api/likes/{others_like.pk}"), 403, "not_owner")
    assert like_counts(poll) == (1, 1)


@pytest.mark.parametrize("closed", [False, True])
def test_staff_remove_any_like(staff_api_client, others_like, poll, closed):
    if closed:
        Poll.objects.filter(pk=poll.pk).update(is_active=False)

    assert staff_api_client.delete(f"/api/likes/{others_like.pk}").status_code == 204
    assert like_counts(poll) == (0, 0)


# --- unliking by poll ----------------------------------------------------------------------------------------


def test_unliking_a_poll_by_its_id(other_client, others_like, poll):
    services.like_poll(poll=poll, voter=visitor(1))

    assert other_client.delete(f"/api/likes/poll/{poll.pk}").status_code == 204

    assert like_counts(poll) == (1, 1)
    assert not Like.objects.filter(pk=others_like.pk).exists()
    # Liking again works once the like is gone.
    assert like(other_client, poll).json()["likes_count"] == 2
    assert like_counts(poll) == (2, 2)


@pytest.mark.parametrize("who", ["account", "anonymous-with-id", "anonymous-without-id"])
def test_unliking_a_poll_i_do_not_like_is_not_found(client_for, other_user, poll, who):
    services.like_poll(poll=poll, voter=visitor(1))
    client = client_for(other_user if who == "account" else None)
    headers = {"HTTP_X_ANON_ID": ANON_ID} if who == "anonymous-with-id" else {}

    assert_error(client.delete(f"/api/likes/poll/{poll.pk}", **headers), 404, "not_found")
    assert like_counts(poll) == (1, 1)


def test_an_anonymous_visitor_unlikes_with_their_cookie(api_client, poll):
    like(api_client, poll)

    assert api_client.delete(f"/api/likes/poll/{poll.pk}").status_code == 204
    assert like_counts(poll) == (0, 0)


# --- a user's likes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["other_user", "staff_user"])
def test_a_user_and_staff_see_that_users_likes(request, client_for, other_user, others_like, poll, viewer):
    services.like_poll(poll=poll, voter=visitor(1))

    response = client_for(request.getfixturevalue(viewer)).get(f"/api/likes/user/{other_user.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0] | {"created_at": None} == {
        "id": str(others_like.pk),
        "poll_id": str(poll.pk),
        "likes_count": 2,
        "created_at": None,
    }


def test_others_cannot_see_a_users_likes(owner_client, api_client, other_user, others_like):
    assert_error(owner_client.get(f"/api/likes/user/{other_user.pk}"), 403, "not_owner")
    assert_error(api_client.get(f"/api/likes/user/{other_user.pk}"), 401, "login_required")


# --- counters, missing objects and wrong methods -------------------------------------------------------------


def test_likes_count_equals_like_rows_after_every_step(client_for, other_user, staff_user, poll):
    account, anonymous, staff = client_for(other_user), client_for(), client_for(staff_user)
    steps = [
        (lambda: like(account, poll), 201, (1, 1)),
        (lambda: like(anonymous, poll, HTTP_X_ANON_ID=ANON_ID), 201, (2, 2)),
        (lambda: like(account, poll), 409, (2, 2)),
        (lambda: account.delete(f"/api/likes/poll/{poll.pk}"), 204, (1, 1)),
        (lambda: account.delete(f"/api/likes/poll/{poll.pk}"), 404, (1, 1)),
        (lambda: like(account, poll), 201, (2, 2)),
        (lambda: staff.delete(f"/api/likes/{Like.objects.get(anon_id=ANON_ID).pk}"), 204, (1, 1)),
        (lambda: anonymous.delete(f"/api/likes/poll/{poll.pk}", HTTP_X_ANON_ID=ANON_ID), 404, (1, 1)),
        (lambda: account.delete(f"/api/likes/{Like.objects.get(user=other_user).pk}"), 204, (0, 0)),
    ]

    for number, (step, status, counts) in enumerate(steps, start=1):
        assert step().status_code == status, number
        assert like_counts(poll) == counts, number


@pytest.mark.parametrize(
    ("method", "path"),
    [("delete", "/api/likes/{id}"), ("delete", "/api/likes/poll/{id}"), ("get", "/api/likes/user/{id}")],
)
def test_unknown_ids_are_not_found(staff_api_client, method, path):
    assert_error(getattr(staff_api_client, method)(path.format(id=uuid.uuid4())), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/likes"),
        ("get", "/api/likes/{like}"),
        ("put", "/api/likes/{like}"),
        ("post", "/api/likes/poll/{poll}"),
        ("get", "/api/likes/poll/{poll}"),
        ("delete", "/api/likes/user/{user}"),
    ],
)
def test_wrong_methods_are_refused(staff_api_client, others_like, poll, other_user, method, path):
    url = path.format(like=others_like.pk, poll=poll.pk, user=other_user.pk)

    assert_error(getattr(staff_api_client, method)(url, {}, format="json"), 405, "method_not_allowed")
    assert like_counts(poll) == (1, 1)


def test_anonymous_likes_per_ip_are_capped_as_ballots_are(client_for, other_user, poll, settings):
    settings.ANONYMOUS_BALLOTS_PER_IP = 2
    for number in (1, 2):
        assert like(client_for(), poll, HTTP_X_ANON_ID=f"capped-liker-000{number}").status_code == 201

    capped = like(client_for(), poll, HTTP_X_ANON_ID="capped-liker-0003")

    assert_error(capped, 429, "anonymous_limit")
    assert "likes" in capped.json()["detail"]
    # Another address, and an account on the same address, still like.
    assert like(client_for(), poll, HTTP_X_ANON_ID="capped-liker-0004", REMOTE_ADDR="198.51.100.9").status_code == 201
    assert like(client_for(other_user), poll).status_code == 201
    assert like_counts(poll) == (4, 4)


def test_the_like_cap_is_per_poll_and_taking_a_like_back_frees_its_place(client_for, owner, poll, settings):
    settings.ANONYMOUS_BALLOTS_PER_IP = 1
    first = client_for()
    assert like(first, poll, HTTP_X_ANON_ID="capped-liker-0005").status_code == 201
    assert like(client_for(), PollFactory(author=owner), HTTP_X_ANON_ID="capped-liker-0006").status_code == 201
    assert like(client_for(), poll, HTTP_X_ANON_ID="capped-liker-0006").status_code == 429

    assert first.delete(f"/api/likes/poll/{poll.pk}", HTTP_X_ANON_ID="capped-liker-0005").status_code == 204

    assert like(client_for(), poll, HTTP_X_ANON_ID="capped-liker-0006").status_code == 201
