"""REQUIRE_VERIFIED_EMAIL_TO_CREATE: only accounts with a confirmed address create polls, on the API and the pages."""

import pytest

from polls.tests.test_pages import new_poll_data
from quickpoll.tests.assertions import assert_error
from quickpoll.tests.pages import shown_messages, signed_in

pytestmark = pytest.mark.django_db

POLL = {"title": "Tea or coffee?", "options": ["Tea", "Coffee"]}


def test_unconfirmed_accounts_may_create_polls_by_default(owner_client):
    assert owner_client.post("/api/polls", POLL, format="json").status_code == 201


def test_the_setting_keeps_unconfirmed_accounts_from_creating_polls(owner, owner_client, settings):
    settings.REQUIRE_VERIFIED_EMAIL_TO_CREATE = True

    assert_error(owner_client.post("/api/polls", POLL, format="json"), 403, "email_not_verified")

    owner.is_verified = True
    owner.save()
    assert owner_client.post("/api/polls", POLL, format="json").status_code == 201


def test_the_create_page_says_why_it_refuses(owner, settings):
    settings.REQUIRE_VERIFIED_EMAIL_TO_CREATE = True
    browser = signed_in(owner)

    shown = browser.get("/polls/new/")
    posted = browser.post("/polls/new/", new_poll_data())

    assert shown_messages(shown)[0][0] == "warning"
    assert "Confirm your email address first" in posted.content.decode()
    assert not owner.polls.exists()
