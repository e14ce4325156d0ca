"""Accounts' time zones: guessed from the browser at sign-up, editable, used on pages; anonymous pages say UTC
(the page script moves them to the browser's zone); the API stays ISO 8601 UTC."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD
from polls.tests.factories import PollFactory
from polls.tests.test_pages import new_poll_data
from quickpoll.tests.assertions import assert_error
from quickpoll.tests.pages import field_block, signed_in, text

pytestmark = pytest.mark.django_db

WINTER_NOON = datetime(2031, 1, 15, 12, 0, tzinfo=UTC)  # Paris is UTC+1 then (CET)


def sign_up(time_zone: str):
    data = {"username": "alice", "email": "alice@example.com", "password": PASSWORD, "password_again": PASSWORD}
    return Client().post("/accounts/register/", {**data, "time_zone": time_zone})


def test_sign_up_keeps_the_zone_the_page_script_sent():
    sign_up("Europe/Paris")

    assert User.objects.get(username="alice").time_zone == "Europe/Paris"


@pytest.mark.parametrize("sent", ["", "Mars/Olympus", "../../etc/passwd"])
def test_sign_up_without_a_zone_it_knows_leaves_the_account_without_one(sent):
    response = sign_up(sent)

    assert response.status_code == 302
    assert User.objects.get(username="alice").time_zone == ""


def test_the_sign_up_page_has_the_field_the_script_fills():
    page = text(Client().get("/accounts/register/"))

    assert re.search(r'<input type="hidden" name="time_zone"[^>]*data-browser-zone', page)


def test_the_api_takes_a_zone_at_sign_up_and_refuses_an_unknown_one():
    api = APIClient()
    account = {"username": "bob", "email": "bob@example.com", "password": "a-Strong-pass-8812"}

    refused = api.post("/api/users/register", {**account, "time_zone": "Mars/Olympus"}, format="json")
    created = api.post("/api/users/register", {**account, "time_zone": "Asia/Tokyo"}, format="json")

    assert_error(refused, 400, "invalid", fields=["time_zone"])
    assert created.status_code == 201 and created.json()["user"]["time_zone"] == "Asia/Tokyo"


def test_the_zone_is_chosen_in_settings(owner):
    client = signed_in(owner)
    form = {"profile-email": owner.email, "profile-display_name": "", "profile-bio": ""}

    shown = client.get("/accounts/settings/")
    saved = client.post("/accounts/settings/", {**form, "profile-time_zone": "America/New_York"})
    unknown = client.post("/accounts/settings/", {**form, "profile-time_zone": "Mars/Olympus"})

    assert 'value="Europe/Paris"' in field_block(shown, "profile-time_zone")
    assert saved.status_code == 302
    assert unknown.status_code == 400
    owner.refresh_from_db()
    assert owner.time_zone == "America/New_York"


def test_patch_me_changes_the_zone(owner_client, owner):
    assert_error(owner_client.patch("/api/users/me", {"time_zone": "Nowhere"}, format="json"), 400, "invalid", fields=["time_zone"])

    response = owner_client.patch("/api/users/me", {"time_zone": "Europe/Berlin"}, format="json")

    assert response.json()["time_zone"] == "Europe/Berlin"


def test_pages_show_times_in_the_accounts_zone(owner):
    owner.time_zone = "Europe/Paris"
    owner.save()
    poll = PollFactory(author=owner, expires_at=WINTER_NOON)

    page = text(signed_in(owner).get(f"/p/{poll.slug}/"))

    closing = re.search(r'<time datetime="2031-01-15T12:00:00Z"[^>]*>', page).group(0)
    assert 'data-zone="Europe/Paris"' in closing and "13:00 CET" in closing
    assert "Times in Europe/Paris" in page


def test_anonymous_pages_say_utc_and_offer_the_script_the_browsers_zone(owner):
    poll = PollFactory(author=owner, expires_at=WINTER_NOON)

    page = text(Client().get(f"/p/{poll.slug}/"))

    closing = re.search(r'<time datetime="2031-01-15T12:00:00Z"[^>]*>', page).group(0)
    assert "data-zone" not in closing and "12:00 UTC" in closing
    assert re.search(r"<li data-zone-note data-browser-words=\"[^\"]*\{zone\}\">Times in UTC</li>", page)


def test_an_account_that_chose_utc_keeps_it_rather_than_the_browsers(owner):
    owner.time_zone = "UTC"
    owner.save()
    poll = PollFactory(author=owner, expires_at=WINTER_NOON)

    page = text(signed_in(owner).get(f"/p/{poll.slug}/"))

    assert 'data-zone="UTC"' in re.search(r'<time datetime="2031-01-15T12:00:00Z"[^>]*>', page).group(0)


def test_the_api_stays_in_utc_for_an_account_with_a_zone(owner):
    owner.time_zone = "Asia/Tokyo"
    owner.save()
    poll = PollFactory(author=owner, expires_at=WINTER_NOON)
    client = Client()
    client.force_login(owner)  # a browser session: the one way pages' middleware could reach the API

    body = client.get(f"/api/polls/{poll.pk}").json()

    assert body["expires_at"] in {"2031-01-15T12:00:00Z", "2031-01-15T12:00:00+00:00"}


def test_the_poll_form_reads_the_closing_time_in_the_accounts_zone(owner):
    owner.time_zone = "Europe/Paris"
    owner.save()
    client = signed_in(owner)

    form = client.get("/polls/new/")
    created = client.post(
        "/polls/new/", new_poll_data(title="Lunch?", expires_at="2031-01-15T13:00", timezone="Europe/Paris")
    )

    zone_input = re.search(r'<input type="hidden" name="timezone"[^>]*>', text(form)).group(0)
    assert 'value="Europe/Paris"' in zone_input and 'data-local-zone="Europe/Paris"' in zone_input
    assert created.status_code == 302
    assert owner.polls.get(title="Lunch?").expires_at == WINTER_NOON
