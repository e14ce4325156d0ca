"""The proof-of-work widget in a real browser: it solves under the site's CSP and the vote counts; without JavaScript the page says why not."""

import re

from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from polls.models import Ballot
from polls.tests.factories import PollFactory


def _always_protected_poll():
    return PollFactory(author=UserFactory(), title="Cats or dogs?", options=["Cats", "Dogs"], bot_protection="always")


def test_the_widget_solves_the_challenge_and_the_vote_counts(live_url, new_page):
    poll = _always_protected_poll()
    page = new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(f"{live_url}/p/{poll.slug}/")

    expect(page.locator("input[name=altcha]")).to_have_value(re.compile(r".{100,}"))  # the solution, base64
    page.get_by_label("Dogs", exact=True).check()
    page.get_by_role("button", name="Vote", exact=True).click()

    expect(page.get_by_text("Your vote is in.")).to_be_visible()
    assert Ballot.objects.filter(poll=poll).count() == 1
    assert refused == []


def test_without_javascript_the_page_explains_and_counts_nothing(live_url, new_page):
    poll = _always_protected_poll()
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_url}/p/{poll.slug}/")

    # Playwright's text locators skip <noscript>; innerText is what the reader sees.
    assert "That needs JavaScript" in page.inner_text(".bot-challenge")
    page.get_by_label("Dogs", exact=True).check()
    page.get_by_role("button", name="Vote", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text("solve a small puzzle before your vote counts")
    assert not Ballot.objects.filter(poll=poll).exists()
