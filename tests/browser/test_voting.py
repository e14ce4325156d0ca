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


def _vote(page, option: str):
    page.get_by_label(option, exact=True).check()
    page.get_by_role("button", name="Vote", exact=True).click()


def test_an_anonymous_visitor_votes_and_sees_the_results(live_url, new_page, poll):
    page = new_page(**PHONE)
    page.goto(f"{live_url}/p/{poll.slug}/")
    _vote(page, "Coffee")

    expect(page.get_by_text("Your vote is in.")).to_be_visible()
    results = page.locator("[data-live-results]")
    expect(results).to_contain_text("1 vote")
    expect(results.locator(".bar.mine")).to_contain_text("Coffee")
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
    expect(results).to_contain_text("1 vote", timeout=5_000)
    expect(results.locator('[data-option-id] .count').first).to_have_text(re.compile(r"^1 · 100\.0%$"))
    assert watcher.evaluate("window.stillTheSamePage") is True


def test_voting_works_with_javascript_off(live_url, new_page, poll):
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_url}/p/{poll.slug}/")
    _vote(page, "Tea")

    expect(page.get_by_text("Your vote is in.")).to_be_visible()
    expect(page.locator("[data-live-results]")).to_contain_text("1 vote")
    page.get_by_role("button", name="Change my vote").click()
    expect(page.get_by_text("Your vote is taken back")).to_be_visible()
    assert Vote.objects.filter(poll=poll).count() == 0


def test_a_voter_cannot_vote_twice_from_the_same_browser(live_url, new_page, poll):
    page = new_page()
    page.goto(f"{live_url}/p/{poll.slug}/")
    _vote(page, "Tea")
    expect(page.get_by_role("button", name="Vote", exact=True)).to_have_count(0)
    expect(page.get_by_text("You have voted.")).to_be_visible()
