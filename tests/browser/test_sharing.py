"""The share panel a new poll lands on, dates in the reader's zone, and the create form without JavaScript."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from polls import services
from polls.models import Poll
from polls.tests.factories import PollFactory, pick, visitor
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_creating import log_in

NEXT_YEAR = datetime.now(UTC).year + 1


def test_copy_link_says_copied_then_resets(live_url, new_page):
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    log_in(page, live_url, UserFactory())
    page.goto(f"{live_url}/polls/new/")
    page.get_by_label("Title").fill("Board games or bowling?")
    page.get_by_label("Option 1", exact=True).fill("Board games")
    page.get_by_label("Option 2", exact=True).fill("Bowling")
    page.get_by_role("button", name="Create the poll").click()

    poll = Poll.objects.get(title="Board games or bowling?")
    expect(page).to_have_url(f"{live_url}/p/{poll.slug}/share/")
    copy = page.get_by_role("button", name="Copy link")
    copy.click()

    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_url}/p/{poll.slug}/"
    expect(page.get_by_role("button", name="Copy link")).to_be_visible(timeout=4000)
    page.get_by_role("link", name="Open the poll").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Board games or bowling?")


def test_dates_and_the_closing_time_are_in_the_readers_zone(live_url, new_page):
    user = UserFactory()
    page = new_page(timezone_id="Asia/Tokyo")
    log_in(page, live_url, user)
    page.goto(f"{live_url}/polls/new/")
    expect(page.locator("#id_expires_at_helptext")).to_contain_text("In your time zone (Asia/Tokyo).")
    page.get_by_label("Title").fill("New year party?")
    page.get_by_label("Option 1", exact=True).fill("Yes")
    page.get_by_label("Option 2", exact=True).fill("No")
    page.get_by_label("Closes at").fill(f"{NEXT_YEAR}-01-15T09:00")
    page.get_by_role("button", name="Create the poll").click()

    poll = Poll.objects.get(title="New year party?")
    assert poll.expires_at == datetime(NEXT_YEAR, 1, 15, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    closes = page.locator('time[data-when="date"]')
    expect(closes).to_have_text(re.compile(rf"^\w{{3}} 15 Jan {NEXT_YEAR}, 09:00$"))
    assert "Asia/Tokyo" in closes.get_attribute("title")

    # The edit page shows it back in the same zone.
    page.goto(f"{live_url}/p/{poll.slug}/edit/")
    expect(page.get_by_label("Closes at")).to_have_value(f"{NEXT_YEAR}-01-15T09:00")


def test_without_javascript_add_an_option_posts_back_with_one_more_row(live_url, new_page):
    page = new_page(java_script_enabled=False)
    log_in(page, live_url, UserFactory())
    page.goto(f"{live_url}/polls/new/")
    expect(page.locator('input[name="options"]')).to_have_count(4)
    page.get_by_label("Title").fill("Which film?")
    for number, film in enumerate(["Alien", "Brazil", "Casablanca", "Dune"], start=1):
        page.get_by_label(f"Option {number}", exact=True).fill(film)
    expect(page.get_by_text("In UTC.", exact=False)).to_be_visible()
    page.get_by_role("button", name="Add an option").click()

    expect(page.locator('input[name="options"]')).to_have_count(5)
    expect(page.get_by_label("Title")).to_have_value("Which film?")
    expect(page.get_by_label("Option 4", exact=True)).to_have_value("Dune")
    page.get_by_label("Option 5", exact=True).fill("Eraserhead")
    page.get_by_label("Option 5", exact=True).press("Enter")  # Enter creates, it does not add a row

    poll = Poll.objects.get(title="Which film?")
    assert list(poll.options.values_list("text", flat=True)) == ["Alien", "Brazil", "Casablanca", "Dune", "Eraserhead"]
    expect(page).to_have_url(f"{live_url}/p/{poll.slug}/share/")


def test_relative_dates_are_words_in_the_browser_too(live_url, new_page):
    poll = PollFactory(title="Lunch?")
    Poll.objects.filter(pk=poll.pk).update(created_at=datetime.now(UTC) - timedelta(minutes=5, seconds=10))
    page = new_page(timezone_id="America/New_York")
    page.goto(f"{live_url}/p/{poll.slug}/share/")

    created = page.locator('time[data-when="relative"]')
    expect(created).to_have_text("5 minutes ago")
    assert "America/New_York" in created.get_attribute("title")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_share_create_with_errors_and_locked_edit_pages_pass_axe(live_url, new_page, scheme):
    user = UserFactory()
    page = new_page(bypass_csp=True, color_scheme=scheme)  # axe is injected as an inline script
    log_in(page, live_url, user)
    poll = PollFactory(author=user, title="Lunch?", options=["Soup", "Salad"])
    services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Soup"))

    page.goto(f"{live_url}/p/{poll.slug}/share/")
    assert serious_violations(page) == []
    page.goto(f"{live_url}/p/{poll.slug}/edit/")
    assert serious_violations(page) == []
    page.goto(f"{live_url}/polls/new/")
    page.get_by_label("Option 1", exact=True).fill("Tea")
    page.get_by_label("Option 2", exact=True).fill("tea")
    page.get_by_role("button", name="Create the poll").click()
    expect(page.locator('input[aria-invalid="true"][name="options"]')).to_have_count(2)
    assert serious_violations(page) == []
