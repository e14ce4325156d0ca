"""API keys on the settings page (make one, see its secret once, revoke it) and in the moderators' admin."""

import hashlib

import pytest
from django.test import Client
from django.urls import reverse

from accounts import api_keys
from accounts.models import ApiKey, AuditEntry
from accounts.tests.factories import UserFactory
from quickpoll.tests.pages import field_errors, signed_in, text

pytestmark = pytest.mark.django_db


def new_key_data(**changes) -> dict:
    return {"apikey-name": "Spreadsheet sync", "apikey-scopes": ["read", "vote"], "apikey-expires": "90"} | changes


def test_making_a_key_shows_its_secret_once_and_lists_it(owner):
    browser = signed_in(owner)

    made = browser.post("/accounts/settings/", new_key_data())

    assert made.status_code == 200
    key = ApiKey.objects.get()
    secret = made.context["new_api_secret"]
    assert secret.startswith("qp_") and hashlib.sha256(secret.encode()).hexdigest() == key.hashed_secret
    assert f'value="{secret}"' in made.content.decode()
    assert made.headers["Cache-Control"] == "no-store"
    assert key.scope_list == ["read", "vote"] and key.name == "Spreadsheet sync"
    assert 85 < (key.expires_at - key.created_at).days <= 90
    again = browser.get("/accounts/settings/")
    assert secret not in again.content.decode()
    page = text(again)
    assert "Spreadsheet sync" in page and key.prefix in page and "Never used" in page


def test_a_key_without_scopes_or_name_is_refused_on_the_page(owner):
    refused = signed_in(owner).post("/accounts/settings/", new_key_data(**{"apikey-name": "", "apikey-scopes": []}))

    assert refused.status_code == 400
    assert field_errors(refused, "apikey-name")
    assert "Choose at least one scope." in text(refused)
    assert not ApiKey.objects.exists()


def test_a_key_that_never_expires(owner):
    signed_in(owner).post("/accounts/settings/", new_key_data(**{"apikey-expires": "never"}))
    assert ApiKey.objects.get().expires_at is None


def test_revoking_on_the_page(owner, other_user):
    key, secret = api_keys.create_api_key(user=owner, name="Slack bot", scopes=["read"])
    others, _others_secret = api_keys.create_api_key(user=other_user, name="Theirs", scopes=["read"])
    browser = signed_in(owner)

    assert browser.post(reverse("api-key-revoke", args=[others.pk])).status_code == 404
    assert browser.get(reverse("api-key-revoke", args=[key.pk])).status_code == 405
    revoked = browser.post(reverse("api-key-revoke", args=[key.pk]), follow=True)

    assert revoked.redirect_chain[-1][0].endswith("/accounts/settings/#api-keys")
    key.refresh_from_db()
    others.refresh_from_db()
    assert key.revoked_at is not None and others.revoked_at is None
    assert "Slack bot" not in text(revoked).split("API keys", 1)[1].split("Create a key")[0]
    assert Client().post(reverse("api-key-revoke", args=[others.pk])).status_code == 302  # to the login page


# --- the admin ----------------------------------------------------------------------------------------


@pytest.fixture
def moderator_browser(moderator):
    browser = Client()
    browser.force_login(moderator)
    return browser


def test_moderators_list_and_search_keys_but_never_see_a_secret_or_its_hash(moderator_browser, owner):
    key, secret = api_keys.create_api_key(user=owner, name="Spreadsheet sync", scopes=["read", "manage_polls"])
    api_keys.create_api_key(user=UserFactory(username="zed"), name="Other", scopes=["vote"])

    listed = moderator_browser.get(reverse("admin:accounts_apikey_changelist"), {"q": "owner"})
    detail = moderator_browser.get(reverse("admin:accounts_apikey_change", args=[key.pk]))
    by_scope = moderator_browser.get(reverse("admin:accounts_apikey_changelist"), {"scope": "manage_polls"})

    assert listed.status_code == 200 and listed.context["cl"].result_count == 1
    assert by_scope.context["cl"].result_count == 1
    for page in (listed, detail):
        body = page.content.decode()
        assert key.prefix in body and secret not in body and key.hashed_secret not in body
    assert moderator_browser.get(reverse("admin:accounts_apikey_add")).status_code == 403


def test_moderators_revoke_keys_in_bulk_and_the_audit_log_says_so(moderator_browser, moderator, owner):
    first, first_secret = api_keys.create_api_key(user=owner, name="One", scopes=["read"])
    second, _ = api_keys.create_api_key(user=owner, name="Two", scopes=["read"])
    kept, _ = api_keys.create_api_key(user=owner, name="Three", scopes=["read"])

    moderator_browser.post(
        reverse("admin:accounts_apikey_changelist"),
        {"action": "revoke", "_selected_action": [str(first.pk), str(second.pk)]},
    )

    assert set(ApiKey.objects.filter(revoked_at__isnull=False).values_list("pk", flat=True)) == {first.pk, second.pk}
    assert ApiKey.objects.usable().get() == kept
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.API_KEYS_REVOKED)
    assert entries.count() == 2 and {entry.actor for entry in entries} == {moderator}
    assert moderator_browser.get(reverse("admin:accounts_apikey_changelist"), {"state": "revoked"}).context["cl"].result_count == 2
    client = Client(HTTP_AUTHORIZATION=f"Bearer {first_secret}")
    assert client.get("/api/users/me").status_code == 401
