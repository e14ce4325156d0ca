"""Personal API keys (accounts.api_keys): made and listed at /api/keys, used as `Authorization: Bearer qp_…`,
limited to their scopes, ended by expiry, revocation, a ban, a password change or the account's deletion."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts import api_keys, services
from accounts.models import ApiKey
from accounts.tests.factories import PASSWORD, UserFactory
from polls.tests.factories import PollFactory, pick
from quickpoll.tests.test_api_errors_and_limits import rate_limits  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def jwt_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def key_client(secret: str, address: str = "198.51.100.7") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def make_key(user, *scopes, **fields) -> tuple[ApiKey, str]:
    return api_keys.create_api_key(user=user, name="Spreadsheet sync", scopes=list(scopes) or ["read"], **fields)


def error_code(response) -> str:
    return response.json()["code"]


# --- Making, listing, revoking over the API --------------------------------------------------------------


def test_a_key_is_made_over_the_api_its_secret_shown_once_and_stored_only_hashed(owner):
    client = jwt_client(owner)

    made = client.post("/api/keys", {"name": "CI", "scopes": ["read", "vote"]}, format="json")

    assert made.status_code == 201
    body = made.json()
    secret = body["secret"]
    assert secret.startswith("qp_") and len(secret) > 40
    assert body["scopes"] == ["read", "vote"] and body["prefix"] == secret[:11] and body["expires_at"] is None
    key = ApiKey.objects.get(pk=body["id"])
    assert key.hashed_secret == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {str(value) for value in ApiKey.objects.filter(pk=key.pk).values().get().values()}
    listed = client.get("/api/keys").json()["results"]
    assert [item["id"] for item in listed] == [str(key.pk)] and "secret" not in listed[0]
    assert "secret" not in client.get(f"/api/keys/{key.pk}").json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "CI", "scopes": []}, "scopes"),
        ({"name": "CI", "scopes": ["admin"]}, "scopes"),
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "CI", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_a_key_that_breaks_a_rule_is_refused_with_the_field(owner, body, field):
    refused = jwt_client(owner).post("/api/keys", body, format="json")

    assert refused.status_code == 400 and error_code(refused) == "invalid"
    assert field in refused.json()["fields"]
    assert not ApiKey.objects.exists()


def test_an_account_holds_a_bounded_number_of_usable_keys(owner, monkeypatch):
    monkeypatch.setattr(api_keys, "MAX_KEYS_PER_USER", 2)
    client = jwt_client(owner)
    made = [client.post("/api/keys", {"name": f"k{n}", "scopes": ["read"]}, format="json") for n in range(3)]

    assert [response.status_code for response in made] == [201, 201, 409]
    assert error_code(made[2]) == "too_many_api_keys"
    client.delete(f"/api/keys/{made[0].json()['id']}")  # a revoked key frees its place
    assert client.post("/api/keys", {"name": "k3", "scopes": ["read"]}, format="json").status_code == 201


def test_revoking_over_the_api_ends_the_key_at_once_and_only_its_owner_may(owner, other_user):
    key, secret = make_key(owner)
    assert key_client(secret).get("/api/users/me").status_code == 200

    assert jwt_client(other_user).delete(f"/api/keys/{key.pk}").status_code == 404
    assert jwt_client(other_user).get(f"/api/keys/{key.pk}").status_code == 404
    assert jwt_client(owner).delete(f"/api/keys/{key.pk}").status_code == 204

    refused = key_client(secret).get("/api/users/me")
    assert refused.status_code == 401 and error_code(refused) == "authentication_failed"
    assert "revoked" in refused.json()["detail"]
    assert jwt_client(owner).get(f"/api/keys/{key.pk}").json()["revoked_at"] is not None


# --- Using a key ---------------------------------------------------------------------------------------------


def test_a_key_authenticates_as_its_owner_wherever_a_jwt_does(owner):
    _key, secret = make_key(owner, "read")

    me = key_client(secret).get("/api/users/me")

    assert me.status_code == 200 and me.json()["username"] == "owner"
    assert key_client(secret).get("/api/notifications").status_code == 200


def test_a_read_key_cannot_vote_and_a_vote_key_can(owner, other_user):
    poll = PollFactory(author=other_user)
    vote = {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Red")[0])]}
    _read, read_secret = make_key(owner, "read")
    _vote, vote_secret = make_key(owner, "vote")

    refused = key_client(read_secret).post("/api/votes", vote, format="json")
    cast = key_client(vote_secret).post("/api/votes", vote, format="json")

    assert refused.status_code == 403 and error_code(refused) == "insufficient_scope"
    assert "vote" in refused.json()["detail"]
    assert cast.status_code == 201
    assert poll.ballots.get().user == owner


def test_only_a_manage_polls_key_makes_polls(owner):
    body = {"title": "Lunch?", "options": ["Soup", "Salad"]}
    _vote, vote_secret = make_key(owner, "read", "vote")
    _manage, manage_secret = make_key(owner, "manage_polls")

    refused = key_client(vote_secret).post("/api/polls", body, format="json")
    made = key_client(manage_secret).post("/api/polls", body, format="json")

    assert refused.status_code == 403 and error_code(refused) == "insufficient_scope"
    assert made.status_code == 201 and made.json()["author"]["username"] == "owner"
    # Reading needs `read`, even for a key that may write.
    assert error_code(key_client(manage_secret).get("/api/polls")) == "insufficient_scope"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/keys", None),
        ("post", "/api/keys", {"name": "Another", "scopes": ["read"]}),
        ("get", "/api/users/me/export", None),
        ("patch", "/api/users/me", {"display_name": "Taken over"}),
        ("delete", "/api/users/me", {"password": PASSWORD}),
        ("post", "/api/users/me/password", {"current_password": PASSWORD, "new_password": "pw-Other-98765"}),
    ],
)
def test_keys_cannot_manage_the_account_nor_keys_whatever_their_scopes(owner, method, path, body):
    key, secret = make_key(owner, "read", "vote", "manage_polls")

    refused = getattr(key_client(secret), method)(path, body, format="json")

    assert refused.status_code == 403 and error_code(refused) == "insufficient_scope"
    owner.refresh_from_db()
    assert owner.is_active and owner.check_password(PASSWORD) and owner.display_name == ""
    assert list(ApiKey.objects.values_list("pk", flat=True)) == [key.pk]


def test_an_expired_key_is_refused(owner):
    key, secret = make_key(owner, expires_at=timezone.now() + timedelta(days=1))
    assert key_client(secret).get("/api/users/me").status_code == 200

    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = key_client(secret).get("/api/users/me")

    assert refused.status_code == 401 and error_code(refused) == "authentication_failed"
    assert "expired" in refused.json()["detail"]
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_unknown_key_is_refused_and_never_taken_for_a_jwt(owner):
    _key, secret = make_key(owner)

    refused = key_client(secret[:-2] + "xx").get("/api/users/me")

    assert refused.status_code == 401 and error_code(refused) == "authentication_failed"
    assert "not valid" in refused.json()["detail"]


def test_a_jwt_is_not_limited_by_scopes(owner):
    poll = PollFactory(author=owner)
    assert jwt_client(owner).post(f"/api/polls/{poll.pk}/deactivate").status_code == 200


# --- What ends a key --------------------------------------------------------------------------------------------


def test_a_ban_revokes_the_accounts_keys(owner, other_user):
    key, secret = make_key(owner)
    _others, others_secret = make_key(other_user)

    services.deactivate_users(users=type(owner).objects.filter(pk=owner.pk))

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key_client(secret).get("/api/users/me").status_code == 401
    assert key_client(others_secret).get("/api/users/me").status_code == 200


def test_a_key_of_an_inactive_account_is_refused_even_unrevoked(owner):
    _key, secret = make_key(owner)
    type(owner).objects.filter(pk=owner.pk).update(is_active=False)  # as a raw update would, with no revocation

    assert key_client(secret).get("/api/users/me").status_code == 401


def test_a_password_change_revokes_the_accounts_keys(owner):
    key, secret = make_key(owner)

    services.change_password(user=owner, current_password=PASSWORD, new_password="pw-Brand-New-4321")

    assert key_client(secret).get("/api/users/me").status_code == 401
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_deleting_the_account_deletes_its_keys(owner):
    _key, secret = make_key(owner)

    services.delete_account(user=owner)

    assert not ApiKey.objects.exists()
    assert key_client(secret).get("/api/users/me").status_code == 401


def test_revoking_a_key_tells_open_sockets_to_check_their_credentials(owner, django_capture_on_commit_callbacks):
    key, _secret = make_key(owner)
    told = []
    services.on_credentials_revoked(told.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            api_keys.revoke_api_keys(keys=ApiKey.objects.filter(pk=key.pk))
    finally:
        services._on_credentials_revoked.remove(told.append)
    assert told == [[owner.pk]]


# --- Last use -------------------------------------------------------------------------------------------------


def test_last_use_records_the_time_and_address_at_most_once_a_minute_per_address(owner):
    key, secret = make_key(owner)
    assert key.last_used_at is None

    key_client(secret, "203.0.113.9").get("/api/users/me")
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None and key.last_used_ip == "203.0.113.9"

    key_client(secret, "203.0.113.9").get("/api/users/me")
    key.refresh_from_db()
    assert key.last_used_at == first  # not a write per request

    key_client(secret, "2001:db8::5").get("/api/users/me")
    key.refresh_from_db()
    assert key.last_used_ip == "2001:db8::5" and key.last_used_at >= first

    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    key_client(secret, "2001:db8::5").get("/api/users/me")
    key.refresh_from_db()
    assert timezone.now() - key.last_used_at < timedelta(seconds=30)


def test_a_refused_request_records_no_use(owner):
    key, secret = make_key(owner, "read")

    key_client(secret).post("/api/polls", {}, format="json")

    key.refresh_from_db()
    assert key.last_used_at is None


# --- The key's own rate budget -----------------------------------------------------------------------------


@pytest.fixture
def key_budgets(rate_limits):
    """Rate limits on (an hour-long window): 2 requests per address, 3 per key."""
    rate_limits.RATE_LIMIT_REQUESTS = 2
    rate_limits.API_KEY_RATE_LIMIT = 3
    return rate_limits


def test_a_key_spends_its_own_budget_from_any_address_not_its_addresses(key_budgets, owner):
    _key, secret = make_key(owner)
    _second, second_secret = make_key(owner)

    answers = [key_client(secret, f"203.0.113.{n}").get("/api/users/me") for n in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert error_code(answers[-1]) == "rate_limited" and int(answers[-1].headers["Retry-After"]) > 0
    assert [answer.headers["X-RateLimit-Limit"] for answer in answers] == ["3"] * 4
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    # Another key, and the address's own budget, are untouched.
    assert key_client(second_secret, "203.0.113.0").get("/api/users/me").status_code == 200
    assert APIClient(REMOTE_ADDR="203.0.113.0").get("/api/polls").headers["X-RateLimit-Remaining"] == "1"


def test_a_key_that_does_not_work_spends_its_addresses_budget(key_budgets, owner):
    guesses = [key_client("qp_" + "x" * 43, "203.0.113.50").get("/api/users/me") for _ in range(3)]

    assert [guess.status_code for guess in guesses] == [401, 401, 429]


# --- Scopes, one place --------------------------------------------------------------------------------------


class _View:
    def __init__(self, **attributes):
        self.__dict__.update(attributes)


@pytest.mark.parametrize(
    ("view", "method", "needed"),
    [
        (_View(), "GET", "read"),
        (_View(), "POST", None),  # a view naming no scope refuses keys on unsafe methods
        (_View(api_key_scope="vote"), "DELETE", "vote"),
        (_View(api_key_scope="vote"), "HEAD", "read"),
        (_View(api_key_scope=api_keys.ACCOUNT_ONLY), "GET", None),
        (_View(get_api_key_scope=lambda: "manage_polls", api_key_scope="vote"), "PATCH", "manage_polls"),
    ],
)
def test_the_scope_a_request_needs(view, method, needed):
    assert api_keys.required_scope(view, method) == needed


def test_a_key_for_a_socket_needs_read(owner):
    _read, read_secret = make_key(owner, "read")
    _vote, vote_secret = make_key(owner, "vote")

    assert api_keys.user_for_socket(read_secret) == owner
    with pytest.raises(Exception, match="read"):
        api_keys.user_for_socket(vote_secret)


def test_keys_of_other_people_are_not_listed(owner, other_user):
    make_key(other_user)
    mine, _secret = make_key(UserFactory(username="someone"))
    assert jwt_client(owner).get("/api/keys").json()["results"] == []
    assert jwt_client(owner).get(f"/api/keys/{mine.pk}").status_code == 404
