"""The settings page's API keys in a real browser: make a key, copy it, and nothing an accessibility check objects to."""

from playwright.sync_api import expect

from accounts.models import ApiKey
from accounts.tests.factories import UserFactory
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_creating import log_in


def test_making_a_key_shows_it_once_with_a_copy_button_and_passes_axe(live_url, new_page):
    user = UserFactory()
    page = new_page()
    log_in(page, live_url, user)
    page.goto(f"{live_url}/accounts/settings/")

    page.fill("#id_apikey-name", "Spreadsheet sync")
    page.check("#id_apikey-scopes_1")
    page.click("form.api-key-create button[type=submit]")

    secret = page.input_value("#new-api-key")
    assert secret.startswith("qp_") and ApiKey.objects.get(user=user).prefix == secret[:11]
    # The page script shows the button once it runs (deferred): wait for it, as a person would.
    expect(page.locator("button[data-copy='#new-api-key']")).to_be_visible()
    assert page.locator(".api-key-list li").count() == 1
    assert serious_violations(page) == []
