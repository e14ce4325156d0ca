"""Forged, expired, misused and revoked JWTs: refused with 401 authentication_failed by the API (never
treated as anonymous), with close code 4401 by every socket; and sockets refuse pages of other sites."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.tests.factories import PASSWORD
from polls.tests.factories import PollFactory
from quickpoll.tests.assertions import assert_error
from realtime import consumers
from realtime.tests.sockets import cookie
from tests.security.conftest import bearer_client

# Forging an HS512 token with the development key makes PyJWT warn that the key is short for SHA-512.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

SIGNING_KEY = settings.SIMPLE_JWT["SIGNING_KEY"]


def b64(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part, separators=(",", ":")).encode()).rstrip(b"=").decode()


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def forged_tokens(victim, attacker) -> dict[str, str]:
    """Access tokens naming `victim` that the server must not accept; `attacker` holds a valid token of their own."""
    genuine = claims(str(AccessToken.for_user(victim)))
    expired = AccessToken.for_user(victim)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    own = str(AccessToken.for_user(attacker))
    header, _, signature = own.split(".")
    # The attacker's own token with the user id changed: the signature no longer matches the payload.
    tampered = f"{header}.{b64(claims(own) | {'user_id': str(victim.pk)})}.{signature}"
    return {
        "wrong_key": jwt.encode(genuine, "not-the-server-key-but-just-as-long-0123456789", algorithm="HS256"),
        "alg_none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(genuine)}.",
        "alg_none_with_signature": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(genuine)}.{signature}",
        "hs512_with_the_right_key": jwt.encode(genuine, SIGNING_KEY, algorithm="HS512"),
        "expired": str(expired),
        "without_expiry": jwt.encode({k: v for k, v in genuine.items() if k != "exp"}, SIGNING_KEY, algorithm="HS256"),
        "refresh_as_access": str(RefreshToken.for_user(victim)),
        "tampered_user_id": tampered,
        "garbage": "eyJhbGciOiJIUzI1NiJ9.not-json.c2lnbmF0dXJl",
    }


TOKEN_KINDS = [
    "wrong_key",
    "alg_none",
    "alg_none_with_signature",
    "hs512_with_the_right_key",
    "expired",
    "without_expiry",
    "refresh_as_access",
    "tampered_user_id",
    "garbage",
]


# --- The API --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_forgeries_are_well_formed(owner, other_user):
    """Each forgery differs from a valid token only in what it is meant to break."""
    tokens = forged_tokens(owner, other_user)
    assert set(tokens) == set(TOKEN_KINDS)
    assert claims(tokens["alg_none"])["user_id"] == claims(tokens["tampered_user_id"])["user_id"] == str(owner.pk)
    assert claims(tokens["expired"])["token_type"] == "access" and claims(tokens["refresh_as_access"])["token_type"] == "refresh"
    assert "exp" not in claims(tokens["without_expiry"])
    # The same claims, properly signed, do get in: the refusals below are about the forgery, not the claims.
    assert bearer_client(owner).get("/api/users/me").status_code == 200
    genuine = jwt.encode(claims(tokens["wrong_key"]), SIGNING_KEY, algorithm="HS256")
    client = bearer_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {genuine}")
    assert client.get("/api/users/me").json()["email"] == owner.email


@pytest.mark.django_db
@pytest.mark.parametrize("kind", TOKEN_KINDS)
@pytest.mark.parametrize("path", ["/api/users/me", "/api/polls"])
def test_a_forged_or_misused_access_token_is_refused_never_taken_for_anonymous(owner, other_user, kind, path):
    client = bearer_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged_tokens(owner, other_user)[kind]}")

    response = client.get(path)

    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
@pytest.mark.parametrize("fate", ["deactivated", "deleted"])
def test_the_token_of_an_account_that_is_gone_is_refused(owner, fate):
    client = bearer_client(owner)
    if fate == "deleted":
        owner.delete()
    else:
        owner.is_active = False
        owner.save(update_fields=["is_active"])

    assert_error(client.get("/api/users/me"), 401, "authentication_failed")


def refresh_forgeries(victim) -> dict[str, str]:
    genuine = RefreshToken.for_user(victim)
    expired = RefreshToken.for_user(victim)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    payload = claims(str(genuine))
    logged_out = RefreshToken.for_user(victim)
    assert bearer_client().post("/api/users/logout", {"refresh": str(logged_out)}, format="json").status_code == 204
    return {
        "blacklisted_by_logout": str(logged_out),
        "wrong_key": jwt.encode(payload, "not-the-server-key-but-just-as-long-0123456789", algorithm="HS256"),
        "alg_none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}.",
        "expired": str(expired),
        "access_as_refresh": str(genuine.access_token),
        "tampered_user_id": ".".join([str(genuine).split(".")[0], b64(payload | {"user_id": "0" * 32}), str(genuine).split(".")[2]]),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind", ["blacklisted_by_logout", "wrong_key", "alg_none", "expired", "access_as_refresh", "tampered_user_id"]
)
def test_a_revoked_or_forged_refresh_token_gets_no_new_pair(owner, kind):
    token = refresh_forgeries(owner)[kind]

    response = bearer_client().post("/api/users/token/refresh", {"refresh": token}, format="json")

    assert_error(response, 401, "authentication_failed")
    assert "access" not in response.json()


@pytest.mark.django_db
def test_a_deactivated_accounts_refresh_token_gets_no_new_pair(owner):
    refresh = str(RefreshToken.for_user(owner))
    owner.is_active = False
    owner.save(update_fields=["is_active"])

    assert_error(bearer_client().post("/api/users/token/refresh", {"refresh": refresh}, format="json"), 401, "authentication_failed")


@pytest.mark.django_db
def test_changing_the_password_cuts_off_refresh_tokens_issued_before(owner):
    stolen = str(RefreshToken.for_user(owner))
    changed = bearer_client(owner).post(
        "/api/users/me/password", {"current_password": PASSWORD, "new_password": "a-Fresh-pass-after-theft-77"}, format="json"
    )
    assert changed.status_code == 204

    response = bearer_client().post("/api/users/token/refresh", {"refresh": stolen}, format="json")

    assert_error(response, 401, "authentication_failed")


# --- Getting a token in the first place ------------------------------------------------------------------


@pytest.mark.django_db
def test_nobody_can_take_over_another_persons_email_address_at_login(owner):
    squatter = {"username": owner.email, "email": "squatter@evil.example", "password": "Squatter-pass-1234"}
    registered = bearer_client().post("/api/users/register", squatter, format="json")

    login = bearer_client().post("/api/users/login", {"username": owner.email, "password": PASSWORD}, format="json")

    # Either the sign-up is refused, or the address still logs its owner in.
    assert registered.status_code == 409 or login.status_code == 200, (registered.status_code, login.content)


# --- The sockets ----------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("transport", ["query", "subprotocol"])
async def test_every_socket_refuses_every_forged_token_with_4401(sockets, owner, other_user, transport):
    tokens = await database_sync_to_async(forged_tokens)(owner, other_user)
    poll = await database_sync_to_async(PollFactory)(author=owner)
    paths = [f"/ws/user/{owner.pk}", f"/ws/poll/{poll.pk}", "/ws/global"]

    codes = {}
    for kind, token in tokens.items():
        for path in paths:
            if transport == "query":
                codes[kind, path] = await sockets.refused(f"{path}?token={token}")
            else:
                codes[kind, path] = await sockets.refused(path, subprotocols=["bearer", token])

    assert {key: code for key, code in codes.items() if code != consumers.CLOSE_UNAUTHENTICATED} == {}
    assert len(codes) == len(TOKEN_KINDS) * 3
    # A refused socket gives its place back once the client hangs up.
    await sockets.close_all()
    assert consumers.QuickPollConsumer.open_connections == 0


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_victims_socket_refuses_a_token_tampered_to_name_them(sockets, owner, other_user):
    tampered = (await database_sync_to_async(forged_tokens)(owner, other_user))["tampered_user_id"]

    # 4401 (the token is bad), not 4403 (someone else's socket): the tampered id is never believed.
    assert await sockets.refused(f"/ws/user/{owner.pk}?token={tampered}") == consumers.CLOSE_UNAUTHENTICATED
    assert await sockets.refused(f"/ws/user/{other_user.pk}?token={tampered}") == consumers.CLOSE_UNAUTHENTICATED


FOREIGN_ORIGINS = [
    "http://evil.example",
    "https://evil.example:8000",
    "http://127.0.0.1.evil.example",
    "http://127.0.0.1@evil.example",
    "http://evil.example#@127.0.0.1",
    "http://sub.localhost",
    "null",
    "file://",
    "chrome-extension://abcdefghijklmnop",
]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_foreign_origin_is_refused_on_every_socket_even_with_valid_credentials(sockets, owner, session_cookie):
    session = await database_sync_to_async(session_cookie)(owner)
    token = await database_sync_to_async(lambda: str(AccessToken.for_user(owner)))()
    poll = await database_sync_to_async(PollFactory)(author=owner)
    paths = [f"/ws/user/{owner.pk}", f"/ws/poll/{poll.pk}", "/ws/global"]

    accepted = []
    for origin in FOREIGN_ORIGINS:
        for path in paths:
            # The cross-site hijack: a browser on another site sends the victim's cookie along.
            with_cookie = [(b"origin", origin.encode()), cookie(sessionid=session)]
            for headers, url in [(with_cookie, path), ([(b"origin", origin.encode())], f"{path}?token={token}")]:
                communicator = sockets.make(url, headers=headers)
                connected, _ = await communicator.connect(timeout=3)
                if connected:
                    accepted.append((origin, url.split("?")[0], "cookie" if url == path else "token"))

    assert accepted == []
    assert consumers.QuickPollConsumer.open_connections == 0
    # The same credentials from our own origin do open every socket: the refusals were about the Origin.
    for path in paths:
        await sockets.open(path, headers=[(b"origin", b"http://127.0.0.1:8000"), cookie(sessionid=session)])
