"""Two-factor authentication: turning it on and off, signing in with a code or a recovery code on the login
page, the admin's login and the API, refused codes (wrong, replayed, guessed too often), and the admin
refusing staff without it when REQUIRE_TWO_FACTOR_FOR_STAFF is on."""

import re
from datetime import timedelta

import pyotp
import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import two_factor
from accounts.models import RecoveryCode, TwoFactor
from accounts.tests.factories import PASSWORD
from quickpoll.tests.assertions import assert_error
from quickpoll.tests.pages import field_errors, shown_messages, signed_in, text

pytestmark = pytest.mark.django_db

SECRET = pyotp.random_base32()


def code_for(secret: str = SECRET, *, steps_ahead: int = 0) -> str:
    """The app's code now, or that of a later 30-second step (still taken: clocks drift)."""
    return pyotp.TOTP(secret).at(timezone.now() + timedelta(seconds=30 * steps_ahead))


@pytest.fixture
def protected(owner):
    """The owner with two-factor on, set up with this step's code (so the next step's code is the fresh one)."""
    owner.recovery = two_factor.enable_two_factor(user=owner, secret=SECRET, code=code_for())
    return owner


def session_user(client):
    user = client.get("/polls/").wsgi_request.user
    return user if user.is_authenticated else None


def password_step(client, username="owner", next_url=""):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/accounts/login/", data)


# --- Turning it on ---


def test_the_set_up_page_shows_a_qr_code_and_the_key_and_keeps_them_while_unconfirmed(owner):
    client = signed_in(owner)

    first = client.get("/accounts/settings/two-factor/")
    again = client.get("/accounts/settings/two-factor/")

    assert first.status_code == 200
    assert "<svg" in first.content.decode()
    key = re.search(r'<p class="receipt-code"><code>([A-Z2-7 ]+)</code>', text(first)).group(1)
    assert key in text(again)  # the same secret until confirmed: a reload does not break a half-done scan
    assert not TwoFactor.objects.filter(user=owner).exists()


def test_turning_it_on_needs_a_code_from_the_app_and_shows_recovery_codes_once(owner):
    client = signed_in(owner)
    client.get("/accounts/settings/two-factor/")
    secret = client.session["two_factor_setup_secret"]

    wrong = client.post("/accounts/settings/two-factor/", {"code": "000000" if code_for(secret) != "000000" else "111111"})
    right = client.post("/accounts/settings/two-factor/", {"code": code_for(secret)})

    assert wrong.status_code == 400
    assert field_errors(wrong, "code")
    assert right.status_code == 200 and right["Cache-Control"] == "no-store"
    shown = re.findall(r"<code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</code>", text(right))
    assert len(shown) == two_factor.RECOVERY_CODE_COUNT
    assert TwoFactor.objects.get(user=owner).secret == secret
    stored = set(RecoveryCode.objects.filter(user=owner).values_list("code_hash", flat=True))
    assert len(stored) == len(shown) and not stored & set(shown)  # kept hashed, never as typed
    assert "On" in text(client.get("/accounts/settings/"))


def test_the_settings_page_offers_it(owner):
    page = text(signed_in(owner).get("/accounts/settings/"))

    assert "Two-factor authentication" in page and 'href="/accounts/settings/two-factor/"' in page


# --- Signing in on the pages ---


def test_the_password_alone_signs_nobody_in_and_the_code_does(protected):
    client = Client()

    first = password_step(client, next_url="/polls/")

    assert first.status_code == 302 and first["Location"] == "/accounts/login/code/?next=%2Fpolls%2F"
    assert session_user(client) is None
    done = client.post("/accounts/login/code/?next=/polls/", {"code": code_for(steps_ahead=1), "next": "/polls/"})
    assert done.status_code == 302 and done["Location"] == "/polls/"
    assert session_user(client) == protected


def test_a_wrong_code_is_refused_and_nobody_is_signed_in(protected):
    client = Client()
    password_step(client)
    valid = {code_for(steps_ahead=offset) for offset in (-1, 0, 1, 2)}
    wrong = next(code for code in ("123456", "654321", "000000") if code not in valid)

    response = client.post("/accounts/login/code/", {"code": wrong})

    assert response.status_code == 400
    assert field_errors(response, "code")
    assert session_user(client) is None


def test_a_code_works_once(protected):
    code = code_for(steps_ahead=1)
    first, second = Client(), Client()
    password_step(first)
    password_step(second)

    assert first.post("/accounts/login/code/", {"code": code}).status_code == 302
    replayed = second.post("/accounts/login/code/", {"code": code})

    assert replayed.status_code == 400
    assert session_user(second) is None


def test_a_recovery_code_signs_in_once_and_says_how_many_are_left(protected):
    code = protected.recovery[0].upper().replace("-", " ")  # as people retype it
    client = Client()
    password_step(client)

    response = client.post("/accounts/login/code/", {"code": code}, follow=True)

    assert session_user(client) == protected
    assert any("recovery code" in words and "9" in words for _, words in shown_messages(response))
    again = Client()
    password_step(again)
    assert again.post("/accounts/login/code/", {"code": code}).status_code == 400


def test_the_code_page_without_a_password_first_sends_to_the_login_page(db):
    response = Client().get("/accounts/login/code/")

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_an_expired_challenge_sends_back_to_the_password(protected, monkeypatch):
    client = Client()
    password_step(client)
    monkeypatch.setattr(two_factor, "CHALLENGE_SECONDS", -1)

    response = client.post("/accounts/login/code/", {"code": code_for(steps_ahead=1)})

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert session_user(client) is None


def test_a_password_change_voids_the_challenge(protected):
    challenge = two_factor.sign_in_challenge(protected)
    protected.set_password("another-Quick-9876")
    protected.save()

    with pytest.raises(Exception) as refused:
        two_factor.user_for_challenge(challenge)

    assert refused.value.code == "two_factor_challenge_invalid"


def test_code_guessing_is_rate_limited_per_account(protected, settings):
    settings.RATE_LIMIT_ENABLED = settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_AUTH_REQUESTS = 3
    challenge = two_factor.sign_in_challenge(protected)
    valid = {code_for(steps_ahead=offset) for offset in (-1, 0, 1, 2)}
    wrong = next(code for code in ("123456", "654321", "000000") if code not in valid)
    api = APIClient()
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # from many addresses: counted per account
        api.post("/api/users/login/two-factor", {"challenge": challenge, "code": wrong}, format="json", REMOTE_ADDR=address)

    response = api.post(
        "/api/users/login/two-factor", {"challenge": challenge, "code": code_for(steps_ahead=1)}, format="json", REMOTE_ADDR="10.0.0.4"
    )

    assert_error(response, 429, "rate_limited")


# --- The API ---


def test_api_login_answers_a_challenge_instead_of_tokens_then_the_code_gives_them(protected):
    api = APIClient()

    first = api.post("/api/users/login", {"username": "owner", "password": PASSWORD}, format="json")

    assert first.status_code == 200
    body = first.json()
    assert body["two_factor_required"] is True and set(body) == {"two_factor_required", "challenge"}
    done = api.post("/api/users/login/two-factor", {"challenge": body["challenge"], "code": code_for(steps_ahead=1)}, format="json")
    assert done.status_code == 200
    assert set(done.json()) == {"user", "access", "refresh"}
    assert done.json()["user"]["two_factor_enabled"] is True


def test_api_refuses_wrong_replayed_and_forged(protected):
    api = APIClient()
    challenge = two_factor.sign_in_challenge(protected)
    code = code_for(steps_ahead=1)
    assert api.post("/api/users/login/two-factor", {"challenge": challenge, "code": code}, format="json").status_code == 200

    replayed = api.post("/api/users/login/two-factor", {"challenge": challenge, "code": code}, format="json")
    forged = api.post("/api/users/login/two-factor", {"challenge": challenge + "x", "code": code}, format="json")
    missing = api.post("/api/users/login/two-factor", {"challenge": challenge}, format="json")

    assert_error(replayed, 401, "invalid_two_factor_code")
    assert_error(forged, 401, "two_factor_challenge_invalid")
    assert_error(missing, 400, "invalid", fields=["code"])


def test_api_takes_a_recovery_code_once(protected):
    api = APIClient()
    challenge = two_factor.sign_in_challenge(protected)

    first = api.post("/api/users/login/two-factor", {"challenge": challenge, "code": protected.recovery[3]}, format="json")
    again = api.post("/api/users/login/two-factor", {"challenge": challenge, "code": protected.recovery[3]}, format="json")

    assert first.status_code == 200
    assert_error(again, 401, "invalid_two_factor_code")


def test_accounts_without_two_factor_log_in_in_one_step(owner):
    response = APIClient().post("/api/users/login", {"username": "owner", "password": PASSWORD}, format="json")

    assert set(response.json()) == {"user", "access", "refresh"}
    assert response.json()["user"]["two_factor_enabled"] is False


# --- Turning it off, new recovery codes ---


def test_turning_it_off_needs_the_password_and_a_code(protected):
    client = signed_in(protected)

    no_password = client.post("/accounts/settings/two-factor/", {"disable-password": "wrong", "disable-code": code_for(steps_ahead=1)})
    assert no_password.status_code == 400 and field_errors(no_password, "disable-password")
    no_code = client.post("/accounts/settings/two-factor/", {"disable-password": PASSWORD, "disable-code": "12"})
    assert no_code.status_code == 400 and field_errors(no_code, "disable-code")
    assert TwoFactor.objects.filter(user=protected).exists()

    done = client.post("/accounts/settings/two-factor/", {"disable-password": PASSWORD, "disable-code": protected.recovery[0]})

    assert done.status_code == 302
    assert not TwoFactor.objects.filter(user=protected).exists()
    assert not RecoveryCode.objects.filter(user=protected).exists()


def test_new_recovery_codes_replace_the_old_ones(protected):
    client = signed_in(protected)

    response = client.post("/accounts/settings/two-factor/", {"codes-password": PASSWORD})

    fresh = re.findall(r"<code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</code>", text(response))
    assert len(fresh) == two_factor.RECOVERY_CODE_COUNT and not set(fresh) & set(protected.recovery)
    old = two_factor.sign_in_challenge(protected)
    assert_error(
        APIClient().post("/api/users/login/two-factor", {"challenge": old, "code": protected.recovery[1]}, format="json"),
        401,
        "invalid_two_factor_code",
    )


# --- The admin ---


def test_the_admin_login_asks_for_the_code_too(moderator):
    two_factor.enable_two_factor(user=moderator, secret=SECRET, code=code_for())
    client = Client()

    response = client.post("/admin/login/?next=/admin/", {"username": "mod", "password": PASSWORD, "next": "/admin/"})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/code/")
    assert session_user(client) is None
    client.post("/accounts/login/code/", {"code": code_for(steps_ahead=1), "next": "/admin/"})
    assert client.get("/admin/").status_code == 200


def test_moderators_without_two_factor_are_sent_to_turn_it_on_when_required(moderator, settings):
    settings.REQUIRE_TWO_FACTOR_FOR_STAFF = True
    client = signed_in(moderator)

    response = client.get("/admin/polls/poll/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/settings/two-factor/?next=%2Fadmin%2Fpolls%2Fpoll%2F"
    client.get(response["Location"])
    secret = client.session["two_factor_setup_secret"]
    client.post(response["Location"], {"code": code_for(secret), "next": "/admin/polls/poll/"})
    assert client.get("/admin/polls/poll/").status_code == 200


def test_staff_reach_the_admin_with_a_password_when_not_required(moderator, settings):
    settings.REQUIRE_TWO_FACTOR_FOR_STAFF = False

    assert signed_in(moderator).get("/admin/").status_code == 200


def test_the_requirement_leaves_other_accounts_alone(owner, settings):
    settings.REQUIRE_TWO_FACTOR_FOR_STAFF = True

    response = signed_in(owner).get("/admin/")

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")

