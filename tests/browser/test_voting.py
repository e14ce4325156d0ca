"""What a voter does with a shared link: vote, watch results move, with or without JavaScript."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from polls.models import Vote
from polls.tests.factories import PollFactory

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def poll(live_url):
    return PollFactory(author=UserFactory(), title="Tea or coffee?", options=["Tea", "Coffee"])


def _card(page, option: str):
    return page.locator(".option-card", has=page.locator(".option-text", has_text=re.compile(f"^{option}$")))


def _vote(page, option: str):
    _card(page, option).click()  # the whole card is the option's label
    page.get_by_role("button", name="Vote", exact=True).click()


def test_an_anonymous_visitor_votes_and_sees_the_results(live_url, new_page, poll):
    page = new_page(**PHONE)
    page.goto(f"{live_url}/p/{poll.slug}/")
    _vote(page, "Coffee")

    expect(page.get_by_text("Your vote is in.")).to_be_visible()
    results = page.locator("[data-live-results]")
    expect(results).to_contain_text("1 voter")
    expect(results.locator(".option-card.is-mine")).to_contain_text("Coffee")
    assert Vote.objects.filter(poll=poll, option__text="Coffee").count() == 1


def test_a_second_browser_sees_the_count_change_without_reloading(live_url, new_page, poll):
    watcher = new_page(**PHONE)
    watcher.goto(f"{live_url}/p/{poll.slug}/")
    expect(watcher.locator("[data-live-status]")).to_be_visible()  # its socket is open
    watcher.evaluate("window.stillTheSamePage = true")

    voter = new_page()
    voter.goto(f"{live_url}/p/{poll.slug}/")
    _vote(voter, "Tea")

    results = watcher.locator("[data-live-results]")
    expect(results).to_contain_text("1 voter", timeout=5_000)
    expect(results.locator(".option-count").first).to_have_text("1 vote")
    expect(results.locator(".option-percent").first).to_have_text("100%")
    assert watcher.evaluate("window.stillTheSamePage") is True


def test_voting_works_with_javascript_off(live_url, new_page, poll):
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_url}/p/{poll.slug}/")
    _vote(page, "Tea")

    expect(page.get_by_text("Your vote is in.")).to_be_visible()
    expect(page.locator("[data-live-results]")).to_contain_text("1 voter")
    page.get_by_role("link", name="Change my vote").click()
    expect(page.get_by_role("radio", name=re.compile("^Tea"))).to_be_checked()
    _card(page, "Coffee").click()
    page.get_by_role("button", name="Save my new vote").click()
    expect(page.get_by_text("Your vote is changed.")).to_be_visible()
    assert list(Vote.objects.filter(poll=poll).values_list("option__text", flat=True)) == ["Coffee"]


def test_a_voter_cannot_vote_twice_from_the_same_browser(live_url, new_page, poll):
    page = new_page()
    page.goto(f"{live_url}/p/{poll.slug}/")
    _vote(page, "Tea")
    expect(page.get_by_role("button", name="Vote", exact=True)).to_have_count(0)
    expect(page.get_by_text("You have voted.")).to_be_visible()
