"""The API as a whole: one error shape, 404s, rate limits (and their failing open) and the OpenAPI schema."""

import re
import time
import uuid
from types import SimpleNamespace

import pytest
import yaml
from django.conf import settings as django_settings
from quickpoll.cache import SharedRedisCache
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD
from polls import services
from polls.models import Ballot, Poll, Report
from polls.tests.factories import PollFactory, pick
from polls.voters import Voter
from quickpoll import ratelimits
from quickpoll.api_errors import exception_handler
from quickpoll.errors import RateLimited
from quickpoll.tests.assertions import assert_error

pytestmark = pytest.mark.django_db

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


# --- one error shape -----------------------------------------------------------------------------------


@pytest.fixture
def world(owner, other_user, client_for):
    """A poll other_user voted on, liked and reported; a closed poll; an owner-only poll; clients for everyone."""
    poll = PollFactory(author=owner)
    services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Red"))
    services.like_poll(poll=poll, voter=Voter(user=other_user))
    services.report_poll(poll=poll, reporter=other_user, reason=Report.Reason.SPAM)
    closed = PollFactory(author=owner)
    Poll.objects.filter(pk=closed.pk).update(is_active=False)
    hidden = PollFactory(author=owner, results_visibility=Poll.ResultsVisibility.OWNER_ONLY)
    csrf_client = APIClient(enforce_csrf_checks=True)
    csrf_client.force_login(other_user)  # a browser session, posting without its CSRF token
    return SimpleNamespace(
        poll=poll,
        closed=closed,
        hidden=hidden,
        anonymous=client_for(),
        owner=client_for(owner),
        other=client_for(other_user),
        csrf=csrf_client,
        red=str(pick(poll, "Red")[0]),
        blue=str(pick(poll, "Blue")[0]),
    )


def _vote(client, poll, *option_ids, **headers):
    return client.post("/api/votes", {"poll_id": str(poll.pk), "option_ids": list(option_ids)}, format="json", **headers)


def _post(client, path, body, **extra):
    return client.post(path, body, format="json", **extra)


NEW_ACCOUNT = {"username": "OTHER", "email": "n@example.org", "password": "a-Good-pass-123"}
NEW_PASSWORD = {"current_password": "x", "new_password": "y-Long-enough-1"}

# name: (request, status, code, fields)
ERRORS = {
    "validation": (lambda w: _post(w.owner, "/api/polls", {}), 400, "invalid", {"title", "options"}),
    "rule-broken": (lambda w: _post(w.owner, "/api/polls", {"title": "t", "options": ["a"]}), 400, "invalid", {"options"}),
    "malformed-json": (lambda w: w.owner.post("/api/polls", "{", content_type="application/json"), 400, "invalid", None),
    "invalid-option": (lambda w: _vote(w.owner, w.poll, str(pick(w.closed, "Red")[0])), 400, "invalid_option", None),
    "too-many-options": (lambda w: _vote(w.owner, w.poll, w.red, w.blue), 400, "too_many_options", None),
    "invalid-anon-id": (lambda w: _vote(w.anonymous, w.poll, w.red, HTTP_X_ANON_ID="nope"), 400, "invalid_anon_id", None),
    "wrong-password": (lambda w: _post(w.other, "/api/users/me/password", NEW_PASSWORD), 400, "wrong_password", None),
    "login-required": (lambda w: w.anonymous.get("/api/users/me"), 401, "login_required", None),
    "invalid-credentials": (
        lambda w: _post(w.anonymous, "/api/users/login", {"username": "other", "password": "x"}),
        401,
        "invalid_credentials",
        None,
    ),
    "bad-bearer-token": (
        lambda w: w.anonymous.get("/api/users/me", HTTP_AUTHORIZATION="Bearer not-a-token"),
        401,
        "authentication_failed",
        None,
    ),
    "poll-closed": (lambda w: _vote(w.other, w.closed, str(pick(w.closed, "Red")[0])), 403, "poll_closed", None),
    "not-owner": (lambda w: w.other.delete(f"/api/polls/{w.poll.pk}"), 403, "not_owner", None),
    "results-hidden": (lambda w: w.other.get(f"/api/votes/poll/{w.hidden.pk}/stats"), 403, "results_hidden", None),
    "csrf-forbidden": (lambda w: _post(w.csrf, "/api/polls", {"title": "t", "options": ["a", "b"]}), 403, "forbidden", None),
    "drf-not-found": (lambda w: w.anonymous.get(f"/api/polls/{uuid.UUID(int=0)}"), 404, "not_found", None),
    "url-not-found": (lambda w: w.anonymous.get("/api/no-such-thing"), 404, "not_found", None),
    "method-not-allowed": (lambda w: w.owner.delete("/api/polls"), 405, "method_not_allowed", None),
    "not-acceptable": (lambda w: w.anonymous.get("/api/polls", HTTP_ACCEPT="application/xml"), 406, "not_acceptable", None),
    "already-voted": (lambda w: _vote(w.other, w.poll, w.red), 409, "already_voted", None),
    "already-liked": (lambda w: _post(w.other, "/api/likes", {"poll_id": str(w.poll.pk)}), 409, "already_liked", None),
    "already-reported": (
        lambda w: _post(w.other, f"/api/polls/{w.poll.pk}/report", {"reason": "spam"}),
        409,
        "already_reported",
        None,
    ),
    "options-locked": (
        lambda w: w.owner.patch(f"/api/polls/{w.poll.pk}", {"options": ["x", "y"]}, format="json"),
        409,
        "options_locked",
        None,
    ),
    "username-taken": (lambda w: _post(w.anonymous, "/api/users/register", NEW_ACCOUNT), 409, "username_taken", {"username"}),
    "email-taken": (
        lambda w: w.owner.patch("/api/users/me", {"email": "other@example.com"}, format="json"),
        409,
        "email_taken",
        None,
    ),
    "unsupported-media-type": (
        lambda w: w.owner.post("/api/polls", "title=t", content_type="text/plain"),
        415,
        "unsupported_media_type",
        None,
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_every_error_has_one_shape(world, case):
    make_request, status, code, fields = ERRORS[case]

    assert_error(make_request(world), status, code, fields=fields)


def test_a_bad_bearer_token_is_explained_in_a_sentence(api_client):
    body = assert_error(api_client.get("/api/users/me", HTTP_AUTHORIZATION="Bearer not-a-token"), 401, "authentication_failed")

    assert "ErrorDetail" not in body["detail"] and not body["detail"].startswith("{")


def test_validation_messages_are_lists_of_strings_as_documented(other_client, owner):
    poll = PollFactory(author=owner)

    response = other_client.post("/api/votes", {"poll_id": str(poll.pk), "option_ids": ["not-a-uuid"]}, format="json")

    messages = assert_error(response, 400, "invalid", fields={"option_ids"})["fields"]["option_ids"]
    assert isinstance(messages, list) and all(isinstance(message, str) for message in messages)


@pytest.mark.parametrize("path", ["/api/users/me", "/"])
def test_a_session_cookie_with_a_nul_is_no_session(api_client, path):
    # A quoted cookie's octal escape decodes to a NUL, which PostgreSQL refuses: this was a 500 there.
    response = api_client.get(path, HTTP_COOKIE='sessionid="abcdefgh\\000ijklmnop"')

    assert response.status_code == (401 if path.startswith("/api/") else 200)


def test_an_unknown_api_path_answers_json(api_client):
    response = api_client.get("/api/nothing/here")

    assert_error(response, 404, "not_found")


def test_an_unknown_page_answers_html(client):
    response = client.get("/nothing/here")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Not found" in response.content
    assert b'"code"' not in response.content


# Bodies that once answered 500 or nothing at all; every one must be the API's 400.
MALFORMED_BODIES = {
    "json-nested-100000-deep": ("[" * 100_000, "application/json"),
    "json-nested-100000-deep-objects": ('{"a":' * 100_000, "application/json"),
    "json-nested-40-deep": ("[" * 40 + "]" * 40, "application/json"),
    "multipart-without-boundary": ("garbage", "multipart/form-data"),
    "multipart-with-an-empty-boundary": ("garbage", "multipart/form-data; boundary="),
    "multipart-cut-short": ('--xx\r\nContent-Disposition: form-data; name="title"\r\n\r\nt', "multipart/form-data; boundary=xx"),
    "multipart-part-without-a-name": ("--xx\r\nContent-Type: text/plain\r\n\r\nb\r\n--xx--", "multipart/form-data; boundary=xx"),
    "multipart-with-too-many-fields": (
        "".join(f'--xx\r\nContent-Disposition: form-data; name="f{n}"\r\n\r\nv\r\n' for n in range(1200)) + "--xx--\r\n",
        "multipart/form-data; boundary=xx",
    ),
}


JSON_BODIES = [name for name in MALFORMED_BODIES if name.startswith("json")]
MULTIPART_BODIES = [name for name in MALFORMED_BODIES if name.startswith("multipart")]


def assert_malformed(response):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and body["detail"], body
    assert set(body) <= {"code", "detail", "fields"}


@pytest.mark.parametrize("path", ["/api/polls", "/api/votes", "/api/users/login", "/api/users/register"])
@pytest.mark.parametrize("body", JSON_BODIES)
def test_a_malformed_body_is_a_400_in_the_one_shape(owner_client, path, body):
    content, content_type = MALFORMED_BODIES[body]

    assert_malformed(owner_client.post(path, content.encode(), content_type=content_type))


# Bodies the multipart parser refuses outright (a body merely cut short parses to fewer fields).
@pytest.mark.parametrize(
    "body", ["multipart-without-boundary", "multipart-with-an-empty-boundary", "multipart-with-too-many-fields"]
)
def test_a_malformed_upload_is_a_400_in_the_one_shape(owner_client, body):
    # The profile is the one operation that takes multipart (the avatar is a file).
    content, content_type = MALFORMED_BODIES[body]

    assert_malformed(owner_client.patch("/api/users/me", content.encode(), content_type=content_type))


@pytest.mark.parametrize("path", ["/api/polls", "/api/votes", "/api/users/login", "/api/users/register"])
@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=xx", "application/x-www-form-urlencoded", "text/plain"]
)
def test_a_body_other_than_json_is_a_415_where_the_api_takes_json(owner_client, path, content_type):
    response = owner_client.post(path, b"title=t", content_type=content_type)

    assert_error(response, 415, "unsupported_media_type")


def test_json_nested_a_few_levels_still_reaches_validation(owner_client):
    response = owner_client.post("/api/polls", '{"title": "t", "options": [["a"], ["b"]]}', content_type="application/json")

    assert_error(response, 400, "invalid", fields={"options"})


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/register/", "/accounts/settings/", "/polls/new/"])
@pytest.mark.parametrize("body", MULTIPART_BODIES)
def test_a_malformed_multipart_form_post_is_never_a_server_error(client, owner, path, body):
    client.force_login(owner)
    content, content_type = MALFORMED_BODIES[body]

    response = client.post(path, content.encode(), content_type=content_type)

    # A part without a name is dropped, leaving an empty form: the page shows it again (200).
    assert response.status_code in {200, 400}, response.status_code
    assert response["Content-Type"].startswith("text/html")


# --- rate limits ------------------------------------------------------------------------------------------


@pytest.fixture
def rate_limits(settings):
    """Rate limits on: 3 API requests and 2 login/register attempts per hour-long window."""
    settings.RATE_LIMIT_ENABLED = True
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_REQUESTS = 3
    settings.RATE_LIMIT_AUTH_REQUESTS = 2
    # An hour-long window: a test never straddles two windows.
    settings.RATE_LIMIT_WINDOW = 3600
    return settings


def rate_headers(response) -> tuple[int, int, int]:
    return tuple(int(response.headers[name]) for name in RATE_HEADERS)


def test_the_fourth_request_is_rate_limited(rate_limits, api_client):
    responses = [api_client.get("/api/polls") for _ in range(4)]

    assert [response.status_code for response in responses] == [200, 200, 200, 429]
    assert [rate_headers(response)[:2] for response in responses] == [(3, 2), (3, 1), (3, 0), (3, 0)]
    assert all(0 < rate_headers(response)[2] <= 3600 for response in responses)
    limited = responses[-1]
    body = assert_error(limited, 429, "rate_limited")
    assert 0 < int(limited.headers["Retry-After"]) <= 3600
    assert limited.headers["Retry-After"] in body["detail"]
    assert "Retry-After" not in responses[0].headers


def test_every_api_response_carries_the_rate_headers(rate_limits, api_client, owner_client, owner):
    poll = PollFactory(author=owner)
    responses = [
        api_client.get("/api/nothing/here"),
        owner_client.post("/api/polls", {}, format="json"),
        api_client.post("/api/votes", {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Red")[0])]}, format="json"),
    ]

    assert [response.status_code for response in responses] == [404, 400, 201]
    assert [rate_headers(response)[:2] for response in responses] == [(3, 2), (3, 1), (3, 0)]


def test_rate_limits_count_per_client_address(rate_limits, api_client):
    for _ in range(3):
        api_client.get("/api/polls")

    assert_error(api_client.get("/api/polls"), 429, "rate_limited")
    assert api_client.get("/api/polls", REMOTE_ADDR="198.51.100.20").status_code == 200


def test_pages_outside_the_api_are_not_limited(rate_limits, client):
    responses = [client.get("/health") for _ in range(5)]

    assert {response.status_code for response in responses} == {200}
    assert "X-RateLimit-Limit" not in responses[-1].headers


def test_a_rate_limited_vote_is_not_counted(rate_limits, api_client, owner):
    poll = PollFactory(author=owner)
    for _ in range(3):
        api_client.get("/api/polls")

    response = api_client.post("/api/votes", {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Red")[0])]}, format="json")

    assert_error(response, 429, "rate_limited")
    assert not Ballot.objects.exists()


def test_with_limits_off_nothing_is_refused_but_headers_tell_the_limit(rate_limits, api_client):
    rate_limits.RATE_LIMIT_ENABLED = False
    rate_limits.RATELIMIT_ENABLE = False

    responses = [api_client.get("/api/polls") for _ in range(10)]

    assert {response.status_code for response in responses} == {200}
    assert {rate_headers(response) for response in responses} == {(3, 3, 3600)}


def login(client, username: str, password: str = "wrong-password", **extra):
    return client.post("/api/users/login", {"username": username, "password": password}, format="json", **extra)


def test_login_and_register_share_a_tighter_budget_per_address(rate_limits, api_client, owner):
    attempts = [
        login(api_client, "owner"),
        api_client.post("/api/users/register", {"username": "x", "email": "x@example.org", "password": "short"}, format="json"),
        login(api_client, "owner", "pw-Quick-1234"),
    ]

    assert [response.status_code for response in attempts] == [401, 400, 429]
    assert rate_headers(attempts[0])[:2] == (2, 1)
    assert_error(attempts[-1], 429, "rate_limited")
    assert "Retry-After" in attempts[-1].headers
    # The general API budget is separate.
    assert api_client.get("/api/polls").status_code == 200


@pytest.mark.parametrize("path", ["/api/users/login/", "/api/users/register/"])
def test_the_auth_budget_covers_both_spellings_of_the_path(rate_limits, api_client, path):
    for _ in range(2):
        api_client.post(path, {}, format="json")

    assert_error(api_client.post(path, {}, format="json"), 429, "rate_limited")


def test_one_account_is_limited_whatever_address_guesses_its_password(rate_limits, api_client, owner):
    attempts = [login(api_client, name, REMOTE_ADDR=f"198.51.100.{n}") for n, name in enumerate(["owner", "OWNER"], start=1)]

    assert [response.status_code for response in attempts] == [401, 401]
    # The right password from a fresh address is refused too: the account's budget is spent.
    limited = login(api_client, "Owner", "pw-Quick-1234", REMOTE_ADDR="198.51.100.3")
    assert_error(limited, 429, "rate_limited")
    assert "Retry-After" in limited.headers
    # Another account from another fresh address is not affected.
    assert login(api_client, "other", REMOTE_ADDR="198.51.100.4").status_code == 401


def test_the_account_budget_covers_its_username_and_its_email(rate_limits, api_client, owner):
    for number in (1, 2):
        login(api_client, "owner", REMOTE_ADDR=f"198.51.100.{number}")

    assert_error(login(api_client, "owner@example.com", REMOTE_ADDR="198.51.100.3"), 429, "rate_limited")


def test_the_login_page_spends_the_account_budget_the_api_spent(rate_limits, api_client, client, owner):
    for number in (1, 2):
        login(api_client, "owner", REMOTE_ADDR=f"198.51.100.{number}")

    page = client.post("/accounts/login/", {"username": "owner@example.com", "password": PASSWORD}, REMOTE_ADDR="198.51.100.3")

    assert page.status_code == 400
    assert "Too many attempts. Try again in" in page.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_register_page_spends_the_address_budget_the_api_spent(rate_limits, api_client, client):
    for _ in range(2):
        login(api_client, "nobody")
    account = {"username": "alice", "email": "alice@example.com", "password": PASSWORD, "password_again": PASSWORD}

    page = client.post("/accounts/register/", account)

    assert page.status_code == 400
    assert "Too many attempts. Try again in" in page.content.decode()
    assert not User.objects.filter(username="alice").exists()


def admin_login(client, username: str, password: str = "wrong-password", **extra):
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"}, **extra)


def test_admin_logins_are_limited_per_address(rate_limits, client, staff_user):
    attempts = [admin_login(client, name) for name in ("staff", "other", "staff")]

    assert [response.status_code for response in attempts] == [200, 200, 429]
    assert "Too many attempts. Try again in" in attempts[-1].content.decode()
    assert 0 < int(attempts[-1].headers["Retry-After"]) <= 3600


def test_admin_logins_spend_the_account_budget_the_api_and_pages_spend(rate_limits, api_client, client, staff_user):
    login(api_client, "staff", REMOTE_ADDR="198.51.100.1")
    client.post("/accounts/login/", {"username": "staff@example.com", "password": "wrong"}, REMOTE_ADDR="198.51.100.2")

    # The right password, from a fresh address: the account's budget is spent.
    page = admin_login(client, "STAFF", PASSWORD, REMOTE_ADDR="198.51.100.3")

    assert page.status_code == 429
    assert "Too many attempts. Try again in" in page.content.decode()
    assert "_auth_user_id" not in client.session
    # And an admin guess spends what the API then finds spent.
    assert_error(login(api_client, "staff", PASSWORD, REMOTE_ADDR="198.51.100.4"), 429, "rate_limited")


def test_guessing_in_the_admin_spends_the_api_budget(rate_limits, api_client, client, staff_user):
    for number in (1, 2):
        admin_login(client, "staff", REMOTE_ADDR=f"198.51.100.{number}")

    assert_error(login(api_client, "staff@example.com", PASSWORD, REMOTE_ADDR="198.51.100.3"), 429, "rate_limited")


def test_logins_work_again_once_the_window_has_passed(rate_limits, client, staff_user, monkeypatch):
    for number in (1, 2):
        admin_login(client, "staff", REMOTE_ADDR=f"198.51.100.{number}")
    assert admin_login(client, "staff", PASSWORD, REMOTE_ADDR="198.51.100.3").status_code == 429

    later = time.time() + 3601
    monkeypatch.setattr(time, "time", lambda: later)
    page = admin_login(client, "staff", PASSWORD, REMOTE_ADDR="198.51.100.3")

    assert page.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_user.pk)


def test_a_spent_budget_raised_in_any_view_gets_the_same_answer():
    response = exception_handler(RateLimited(17), {})

    assert response.status_code == 429
    assert response.data == {"code": "rate_limited", "detail": "Too many requests; try again in 17 seconds."}
    assert response.headers["Retry-After"] == "17"


def test_limits_fail_open_when_counting_raises(rate_limits, api_client, monkeypatch, caplog):
    def broken_get_usage(*args, **kwargs):
        raise ConnectionError("redis is gone")

    monkeypatch.setattr(ratelimits, "get_usage", broken_get_usage)

    responses = [api_client.get("/api/polls") for _ in range(5)]

    assert {response.status_code for response in responses} == {200}
    assert rate_headers(responses[-1]) == (3, 3, 3600)
    assert "rate limit check failed" in caplog.text


def test_limits_fail_open_when_redis_is_unreachable(rate_limits, api_client, owner, monkeypatch, caplog):
    # A real Redis client pointed at a port nobody listens on: every cache call raises ConnectionError.
    dead_redis = SharedRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}})
    monkeypatch.setattr("django_ratelimit.core.caches", {"default": dead_redis})
    poll = PollFactory(author=owner)

    listed = [api_client.get("/api/polls") for _ in range(4)]
    voted = api_client.post("/api/votes", {"poll_id": str(poll.pk), "option_ids": [str(pick(poll, "Red")[0])]}, format="json")

    assert {response.status_code for response in listed} == {200}
    assert voted.status_code == 201
    assert "rate limit check failed" in caplog.text


# --- OpenAPI schema and docs ---------------------------------------------------------------------------------

_METHODS = re.compile(r"^(?:(?:GET|POST|PUT|PATCH|DELETE)\b\s*)+")


def readme_endpoint_paths() -> set[str]:
    """Every path in the endpoint table in docs/api.md; "/popular" after "/api/polls/trending" means "/api/polls/popular"."""
    section = (django_settings.BASE_DIR / "docs" / "api.md").read_text().split("## Endpoints", 1)[1]
    table = section.strip().split("\n\n", 1)[0]  # the table ends at the first blank line
    rows = table.splitlines()
    paths: set[str] = set()
    for row in rows[2:]:  # after the header and its rule
        first_cell = re.split(r"(?<!\\)\|", row)[1]
        previous = None
        for chunk in re.findall(r"`([^`]+)`", first_cell):
            path = _METHODS.sub("", chunk).split("?")[0].strip()
            if not path.startswith("/"):
                continue
            if not path.startswith("/api/"):
                path = previous.rsplit("/", 1)[0] + path
            paths.add(path)
            previous = path
    return paths


def same_shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_the_readme_table_is_read_whole():
    paths = readme_endpoint_paths()

    assert {"/api/polls/popular", "/api/polls/{id}/deactivate", "/api/polls/{id}/export", "/api/likes/poll/{poll_id}"} <= paths
    assert len(paths) >= 30


@pytest.mark.parametrize("path", ["/api/schema", "/api/schema/"])
def test_the_schema_lists_every_endpoint_of_the_readme(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    documented = {same_shape(path) for path in schema["paths"]}
    assert {same_shape(path) for path in readme_endpoint_paths()} - documented == set()
    assert not [path for path in schema["paths"] if path != "/" and path.endswith("/")]
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"code", "detail", "fields"}


@pytest.mark.parametrize("path", ["/docs", "/docs/", "/redoc", "/redoc/"])
def test_the_api_docs_pages_load(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
