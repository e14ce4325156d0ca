"""Password reset by mail: the API and the pages, the same answer for every address, links that expire
and work once, and what a reset ends."""

import re
import time
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import PASSWORD
from accounts.tokens import Purpose, make_token
from quickpoll.tests.assertions import assert_error
from quickpoll.tests.pages import field_errors, shown_messages

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-New-pass-8812"
RESET_LINK = re.compile(r"http://testserver/accounts/password-reset/([^/\s]+)/")


@pytest.fixture(autouse=True)
def _links_to_the_test_server(settings):
    settings.SITE_URL = "http://testserver"


def ask_reset(email: str, capture) -> dict:
    with capture(execute=True):
        response = APIClient().post("/api/users/password-reset", {"email": email}, format="json")
    assert response.status_code == 202
    return response.json()


def token_from(message) -> str:
    return RESET_LINK.search(message.body).group(1)


def test_a_reset_mails_the_account_a_link(owner, django_capture_on_commit_callbacks):
    ask_reset("OWNER@example.com", django_capture_on_commit_callbacks)

    [message] = mail.outbox
    assert message.to == ["owner@example.com"]
    assert message.subject == "Reset your QuickPoll password"
    assert "Hello owner," in message.body and token_from(message)
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and token_from(message) in html
    # The site's name and the way to the mail settings, in both parts; account mails have no unsubscribe.
    assert "QuickPoll" in html and "http://testserver/accounts/settings/#email-heading" in message.body
    assert "List-Unsubscribe" not in message.extra_headers


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(owner, django_capture_on_commit_callbacks):
    known = ask_reset("owner@example.com", django_capture_on_commit_callbacks)
    unknown = ask_reset("nobody@example.com", django_capture_on_commit_callbacks)

    assert known == unknown
    assert [message.to for message in mail.outbox] == [["owner@example.com"]]


def test_a_banned_account_gets_no_reset_mail(owner, django_capture_on_commit_callbacks):
    User.objects.filter(pk=owner.pk).update(is_active=False)

    ask_reset("owner@example.com", django_capture_on_commit_callbacks)

    assert mail.outbox == []


def test_an_address_gets_a_few_reset_mails_an_hour_and_the_answer_does_not_change(
    owner, settings, django_capture_on_commit_callbacks
):
    settings.RATE_LIMIT_ENABLED = settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_AUTH_REQUESTS = 100
    settings.RATE_LIMIT_MAIL_PER_ADDRESS = 2

    answers = [ask_reset("owner@example.com", django_capture_on_commit_callbacks) for _ in range(4)]

    assert len(mail.outbox) == 2
    assert all(answer == answers[0] for answer in answers)


def test_reset_requests_spend_the_sign_in_budget_of_the_address_they_come_from(owner, settings):
    settings.RATE_LIMIT_ENABLED = settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_AUTH_REQUESTS = 2
    settings.RATE_LIMIT_WINDOW = 3600
    client = APIClient()

    statuses = [client.post("/api/users/password-reset", {"email": "x@example.com"}, format="json").status_code for _ in range(3)]

    assert statuses == [202, 202, 429]


def test_the_link_sets_a_new_password_and_ends_every_session(owner, django_capture_on_commit_callbacks):
    refresh = str(RefreshToken.for_user(owner))
    ask_reset("owner@example.com", django_capture_on_commit_callbacks)
    token = token_from(mail.outbox[0])

    response = APIClient().post("/api/users/password-reset/confirm", {"token": token, "new_password": NEW_PASSWORD}, format="json")

    assert response.status_code == 204
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD) and owner.is_verified  # the mail reached its owner
    refused = APIClient().post("/api/users/token/refresh", {"refresh": refresh}, format="json")
    assert refused.status_code == 401 and "blacklisted" in refused.json()["detail"]


def test_the_link_works_once(owner):
    token = make_token(owner, Purpose.PASSWORD_RESET)
    client = APIClient()
    assert client.post("/api/users/password-reset/confirm", {"token": token, "new_password": NEW_PASSWORD}, format="json").status_code == 204

    again = client.post("/api/users/password-reset/confirm", {"token": token, "new_password": "yet-Another-pass-77"}, format="json")

    assert_error(again, 400, "invalid_token")
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_a_password_change_kills_the_link(owner, owner_client):
    token = make_token(owner, Purpose.PASSWORD_RESET)
    owner_client.post("/api/users/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json")

    response = APIClient().post("/api/users/password-reset/confirm", {"token": token, "new_password": "yet-Another-pass-77"}, format="json")

    assert_error(response, 400, "invalid_token")


def test_the_link_expires(owner, settings):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    with mock.patch("time.time", return_value=time.time() - 3601):
        token = make_token(owner, Purpose.PASSWORD_RESET)

    response = APIClient().post("/api/users/password-reset/confirm", {"token": token, "new_password": NEW_PASSWORD}, format="json")

    assert_error(response, 400, "token_expired")
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_forged_or_other_purpose_token_is_refused(owner):
    confirm_token = make_token(owner, Purpose.CONFIRM_EMAIL)
    client = APIClient()

    for token in ("made-up", confirm_token, confirm_token[:-2] + "xx"):
        response = client.post("/api/users/password-reset/confirm", {"token": token, "new_password": NEW_PASSWORD}, format="json")
        assert_error(response, 400, "invalid_token")


def test_a_weak_new_password_is_refused_and_the_link_still_works(owner):
    token = make_token(owner, Purpose.PASSWORD_RESET)
    client = APIClient()

    weak = client.post("/api/users/password-reset/confirm", {"token": token, "new_password": "123"}, format="json")

    assert_error(weak, 400, "invalid", fields=["new_password"])
    assert client.post("/api/users/password-reset/confirm", {"token": token, "new_password": NEW_PASSWORD}, format="json").status_code == 204


# --- Pages ---------------------------------------------------------------------------------------------


def test_the_login_page_links_to_the_reset(db):
    assert 'href="/accounts/password-reset/"' in Client().get("/accounts/login/").content.decode()


@pytest.mark.parametrize("address", ["owner@example.com", "nobody@example.com"])
def test_the_reset_page_answers_the_same_for_every_address(owner, address, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/accounts/password-reset/", {"email": address})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Check your mail" in page and f"If an account uses <strong>{address}</strong>" in page
    assert len(mail.outbox) == (1 if address == "owner@example.com" else 0)


def test_resetting_on_the_pages_then_logging_in(owner, django_capture_on_commit_callbacks):
    browser = Client()
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/accounts/password-reset/", {"email": "owner@example.com"})
    link = f"/accounts/password-reset/{token_from(mail.outbox[0])}/"
    assert browser.get(link).status_code == 200

    response = browser.post(link, {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}, follow=True)

    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert shown_messages(response)[0][0] == "success"
    assert browser.post("/accounts/login/", {"username": "owner", "password": NEW_PASSWORD}).status_code == 302
    assert browser.get(link).status_code == 400  # used


def test_the_reset_page_refuses_differing_or_weak_passwords(owner):
    link = f"/accounts/password-reset/{make_token(owner, Purpose.PASSWORD_RESET)}/"

    differing = Client().post(link, {"new_password": NEW_PASSWORD, "new_password_again": "other"})
    weak = Client().post(link, {"new_password": "123", "new_password_again": "123"})

    assert field_errors(differing, "new_password_again") == ["The two passwords differ."]
    assert weak.status_code == 400 and field_errors(weak, "new_password")


def test_an_expired_link_says_so_and_offers_a_new_one(owner, settings):
    with mock.patch("time.time", return_value=time.time() - settings.PASSWORD_RESET_TIMEOUT - 1):
        token = make_token(owner, Purpose.PASSWORD_RESET)

    response = Client().get(f"/accounts/password-reset/{token}/")

    assert response.status_code == 400
    page = response.content.decode()
    assert "This link has expired" in page and 'href="/accounts/password-reset/"' in page

