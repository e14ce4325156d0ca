"""The presenter screen in a browser, from the keyboard only: R reveals and hides, O closes voting, ? lists the keys,
and the count of voters follows the votes live; a second screen follows a phone used as a remote; axe finds
nothing serious on it, in light and in dark."""

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from polls.models import Poll
from polls.tests.factories import PollFactory
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_creating import log_in
from tests.browser.test_poll_page import vote_elsewhere


@pytest.fixture
def presenter(live_url, new_page):
    """The author of an after-close poll on its presenter screen: by its rule the room sees no results."""
    author = UserFactory()
    poll = PollFactory(
        author=author, title="Which talk next?", options=["Rust", "Django", "Postgres"],
        results_visibility=Poll.ResultsVisibility.AFTER_CLOSE,
    )
    page = new_page(viewport={"width": 1920, "height": 1080})
    log_in(page, live_url, author)
    page.goto(f"{live_url}/p/{poll.slug}/present/")
    yield page, poll
    # The screen's second look after a change (its socket's news) may still be on its way: the database is
    # emptied after the test, which must not meet that request half-way.
    page.wait_for_timeout(500)
    page.close()


def results_state(page):
    return page.locator("[data-presenter-state]").nth(1)


def test_keyboard_only_presenting(live_url, presenter):
    page, poll = presenter
    expect(results_state(page)).to_contain_text("Following the poll's rule")
    said = page.locator("[data-presenter-announcer]")

    page.keyboard.press("r")
    expect(results_state(page)).to_contain_text("Audience sees results")
    expect(said).to_contain_text("Results: Audience sees results")
    poll.refresh_from_db()
    assert (poll.is_presenting, poll.audience_results) == (True, Poll.AudienceResults.SHOWN)

    page.keyboard.press("r")
    expect(results_state(page)).to_contain_text("Hidden from the audience")

    page.keyboard.press("o")
    expect(page.locator("[data-presenter-state]").first).to_have_text("Closed")
    expect(page.get_by_role("button", name="Open voting")).to_be_visible()
    expect(said).to_contain_text("Voting: Closed")
    poll.refresh_from_db()
    assert not poll.is_active
    # Still the same page: nothing reloaded it (full screen would have ended).
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    assert page.evaluate("() => performance.getEntriesByType('navigation')[0].type") == "navigate"

    page.keyboard.press("Shift+?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Open or close voting")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_the_buttons_keep_the_focus_where_it_was(live_url, presenter):
    page, _poll = presenter
    reveal = page.get_by_role("button", name="Reveal results")
    reveal.focus()
    page.keyboard.press("Enter")
    hide = page.get_by_role("button", name="Hide results")
    expect(hide).to_be_focused()


def test_voters_arriving_show_on_the_screen_live(live_url, new_page, presenter):
    page, poll = presenter
    count = page.locator("[data-presenter-voters]")
    expect(count).to_have_text("0")
    vote_elsewhere(new_page(), f"{live_url}/p/{poll.slug}/", "Django")
    expect(count).to_have_text("1", timeout=5_000)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_violations_on_the_presenter_screen(live_url, new_page, scheme):
    author = UserFactory()
    poll = PollFactory(author=author, title="Lunch?", options=["Soup", "Salad"])
    page = new_page(color_scheme=scheme, viewport={"width": 1920, "height": 1080})
    log_in(page, live_url, author)
    page.goto(f"{live_url}/p/{poll.slug}/present/")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Start presenting").click()
    expect(page.get_by_role("button", name="End presenting")).to_be_visible()
    assert serious_violations(page) == []


def test_a_second_screen_follows_the_remote(live_url, new_page, presenter):
    """The host steers from a phone; the projector's screen follows without reloading."""
    projector, poll = presenter
    remote = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(remote, live_url, poll.author)
    remote.goto(f"{live_url}/p/{poll.slug}/present/")
    remote.get_by_role("button", name="Reveal results").tap()
    expect(remote.get_by_role("button", name="Hide results")).to_be_visible()
    expect(results_state(projector)).to_contain_text("Audience sees results", timeout=5_000)
    expect(projector.locator(".presenter-onair")).to_be_visible()
    assert projector.evaluate("() => performance.getEntriesByType('navigation').length") == 1
