"""Confirmed addresses: the link on sign-up, a new address confirmed before it replaces the old (which
is told), sending the link again. (REQUIRE_VERIFIED_EMAIL_TO_CREATE: polls/tests/test_confirmed_authors.py.)"""

import re
import time
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tokens import Purpose, make_token
from quickpoll.tests.assertions import assert_error
from quickpoll.tests.pages import shown_messages, signed_in

pytestmark = pytest.mark.django_db

CONFIRM_LINK = re.compile(r"http://testserver/accounts/confirm-email/([^/\s]+)/")


@pytest.fixture(autouse=True)
def _links_to_the_test_server(settings):
    settings.SITE_URL = "http://testserver"


def token_from(message) -> str:
    return CONFIRM_LINK.search(message.body).group(1)


def confirm(token: str):
    return APIClient().post("/api/users/email/confirm", {"token": token}, format="json")


def test_signing_up_mails_a_link_that_confirms_the_address(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post(
            "/api/users/register", {"username": "alice", "email": "alice@example.com", "password": PASSWORD}, format="json"
        )
    assert response.status_code == 201 and response.json()["user"]["is_verified"] is False
    [message] = mail.outbox
    assert message.to == ["alice@example.com"] and message.subject == "Confirm your email address for QuickPoll"

    assert confirm(token_from(message)).status_code == 204

    assert User.objects.get(username="alice").is_verified
    assert_error(confirm(token_from(message)), 400, "invalid_token")  # used


def test_the_confirmation_link_expires(owner, settings):
    with mock.patch("time.time", return_value=time.time() - settings.EMAIL_CONFIRMATION_TIMEOUT - 1):
        token = make_token(owner, Purpose.CONFIRM_EMAIL)

    assert_error(confirm(token), 400, "token_expired")
    owner.refresh_from_db()
    assert not owner.is_verified


def test_a_new_address_replaces_the_old_only_once_confirmed_and_the_old_one_is_told(
    owner, owner_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.patch("/api/users/me", {"email": "new@example.com"}, format="json")
    [confirmation] = mail.outbox
    assert confirmation.to == ["new@example.com"]
    assert "Your account keeps its old address until you confirm this one" in confirmation.body
    assert User.objects.get(pk=owner.pk).email == "owner@example.com"

    with django_capture_on_commit_callbacks(execute=True):
        assert confirm(token_from(confirmation)).status_code == 204

    owner.refresh_from_db()
    assert (owner.email, owner.pending_email, owner.is_verified) == ("new@example.com", "", True)
    notice = mail.outbox[1]
    assert notice.to == ["owner@example.com"] and notice.subject == "Your QuickPoll email address changed"
    assert "is now new@example.com" in notice.body and "http://testserver/accounts/password-reset/" in notice.body


def test_asking_for_another_address_kills_the_first_link(owner, django_capture_on_commit_callbacks):
    services.request_email_change(user=owner, new_email="first@example.com")
    first = make_token(owner, Purpose.CONFIRM_EMAIL)
    services.request_email_change(user=owner, new_email="second@example.com")

    assert_error(confirm(first), 400, "invalid_token")
    assert User.objects.get(pk=owner.pk).email == "owner@example.com"


def test_a_password_change_kills_the_confirmation_link(owner, owner_client):
    token = make_token(owner, Purpose.CONFIRM_EMAIL)
    owner_client.post("/api/users/me/password", {"current_password": PASSWORD, "new_password": "a-New-pass-8812"}, format="json")

    assert_error(confirm(token), 400, "invalid_token")


def test_an_address_taken_meanwhile_is_refused_at_confirmation(owner):
    services.request_email_change(user=owner, new_email="wanted@example.com")
    token = make_token(owner, Purpose.CONFIRM_EMAIL)
    UserFactory(username="quicker", email="Wanted@example.com")

    assert_error(confirm(token), 409, "email_taken")
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"


def test_changing_back_to_the_current_address_cancels_the_change(owner, owner_client):
    owner_client.patch("/api/users/me", {"email": "new@example.com"}, format="json")

    body = owner_client.patch("/api/users/me", {"email": "owner@example.com"}, format="json").json()

    assert (body["email"], body["pending_email"]) == ("owner@example.com", "")


def test_resending_the_link(owner, owner_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/api/users/me/email/resend")

    assert response.status_code == 202
    assert [message.to for message in mail.outbox] == [["owner@example.com"]]


def test_resending_to_a_confirmed_address_is_refused(owner, owner_client):
    owner.is_verified = True
    owner.save()

    assert_error(owner_client.post("/api/users/me/email/resend"), 409, "already_verified")


def test_resending_is_limited_per_address(owner, owner_client, settings, django_capture_on_commit_callbacks):
    settings.RATE_LIMIT_ENABLED = settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_MAIL_PER_ADDRESS = 1

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [owner_client.post("/api/users/me/email/resend").status_code for _ in range(2)]

    assert statuses == [202, 429] and len(mail.outbox) == 1


# --- Pages ---------------------------------------------------------------------------------------------


def test_the_confirmation_page_asks_before_it_confirms(owner):
    link = f"/accounts/confirm-email/{make_token(owner, Purpose.CONFIRM_EMAIL)}/"
    browser = Client()

    shown = browser.get(link)  # what a mail scanner opening links does: it confirms nothing
    owner.refresh_from_db()
    assert shown.status_code == 200 and "owner@example.com" in shown.content.decode() and not owner.is_verified

    response = browser.post(link, follow=True)

    owner.refresh_from_db()
    assert owner.is_verified and response.redirect_chain == [("/accounts/login/", 302)]
    assert shown_messages(response) == [("success", "Thank you: owner@example.com is confirmed.")]
    assert browser.get(link).status_code == 400


def test_the_settings_page_shows_the_address_waiting_and_offers_to_resend(owner, django_capture_on_commit_callbacks):
    services.request_email_change(user=owner, new_email="new@example.com")
    browser = signed_in(owner)

    page = browser.get("/accounts/settings/").content.decode()
    assert "Waiting for you to confirm <strong>new@example.com</strong>" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/accounts/settings/email/resend/", follow=True)
    assert ("success", "We sent a new confirmation link to new@example.com.") in shown_messages(response)
    assert mail.outbox[-1].to == ["new@example.com"]

    browser.post("/accounts/settings/email/cancel/")
    owner.refresh_from_db()
    assert owner.pending_email == ""
