"""The poll page in a browser: tapping an option card, the same cards filling with results (live too),
changing a vote in one step, and long words that never widen a phone's page."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from polls.models import Vote
from polls.tests.factories import PollFactory

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
LONG = "x" * 190  # a title holds 200 characters
LONG_OPTION = "y" * 100  # an option holds 100


@pytest.fixture
def poll(live_url):
    return PollFactory(author=UserFactory(), title="Tea or coffee?", options=["Tea", "Coffee", "Water"])


def card(page, option: str):
    return page.locator(".option-card", has=page.locator(".option-text", has_text=re.compile(f"^{option}$")))


def vote_elsewhere(page, url: str, option: str) -> None:
    """Another visitor votes in their own browser (the test's thread cannot broadcast: Playwright's loop runs in it)."""
    page.goto(url)
    card(page, option).click()
    page.get_by_role("button", name="Vote", exact=True).click()
    expect(page.get_by_text("Your vote is in.")).to_be_visible()


def test_tapping_a_card_votes_and_the_same_cards_fill_with_results(live_url, new_page, poll):
    page = new_page(**PHONE)
    page.goto(f"{live_url}/p/{poll.slug}/")

    card(page, "Coffee").tap()
    expect(page.get_by_role("radio", name=re.compile("^Coffee"))).to_be_checked()
    page.get_by_role("button", name="Vote", exact=True).tap()

    expect(page.get_by_text("Your vote is in.")).to_be_visible()
    coffee = card(page, "Coffee")
    expect(coffee).to_have_class(re.compile(r"\bis-mine\b"))
    expect(coffee).to_have_class(re.compile(r"\bis-leader\b"))
    expect(coffee.locator(".option-percent")).to_have_text("100%")
    expect(coffee.locator(".option-bar")).to_have_attribute("value", re.compile(r"^100(\.0)?$"))
    expect(page.locator(".option-card")).to_have_count(3)  # no second results box

    # Another voter's ballot moves the same cards live.
    vote_elsewhere(new_page(), f"{live_url}/p/{poll.slug}/", "Tea")
    expect(card(page, "Tea").locator(".option-percent")).to_have_text("50%", timeout=5_000)
    expect(coffee.locator(".option-percent")).to_have_text("50%")
    expect(coffee).to_have_class(re.compile(r"\bis-mine\b"))  # the voter's own mark stays
    expect(page.locator("[data-results-summary]")).to_contain_text("2 voters")


def voted_tea_and_changing(page, url: str):
    """A voter picked Tea, then opened "Change my vote"."""
    page.goto(url)
    card(page, "Tea").click()
    page.get_by_role("button", name="Vote", exact=True).click()
    page.get_by_role("link", name="Change my vote").click()
    return page


def test_change_my_vote_opens_pre_filled_and_replaces_the_ballot_in_one_step(live_url, new_page, poll):
    page = voted_tea_and_changing(new_page(), f"{live_url}/p/{poll.slug}/")

    expect(page.get_by_role("radio", name=re.compile("^Tea"))).to_be_checked()
    assert Vote.objects.filter(poll=poll).count() == 1  # opening the form took nothing back

    card(page, "Water").click()
    page.get_by_role("button", name="Save my new vote").click()

    expect(page.get_by_text("Your vote is changed.")).to_be_visible()
    expect(card(page, "Water")).to_have_class(re.compile(r"\bis-mine\b"))
    assert list(Vote.objects.filter(poll=poll).values_list("option__text", flat=True)) == ["Water"]


def test_leaving_the_change_form_keeps_the_vote(live_url, new_page, poll):
    page = voted_tea_and_changing(new_page(), f"{live_url}/p/{poll.slug}/")

    page.get_by_role("link", name="Keep my vote").click()

    expect(card(page, "Tea")).to_have_class(re.compile(r"\bis-mine\b"))
    assert list(Vote.objects.filter(poll=poll).values_list("option__text", flat=True)) == ["Tea"]


def test_long_words_wrap_on_a_phone_before_and_after_a_live_update(live_url, new_page):
    poll = PollFactory(author=UserFactory(), title=f"Title {LONG}", description=f"About {LONG}", options=[LONG_OPTION, "Short"])
    page = new_page(**PHONE)
    page.goto(f"{live_url}/p/{poll.slug}/")
    expect(page.locator("[data-live-status]")).to_be_visible()

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    vote_elsewhere(new_page(), f"{live_url}/p/{poll.slug}/", LONG_OPTION)
    expect(page.locator("[data-results-summary]")).to_contain_text("1 voter", timeout=5_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
