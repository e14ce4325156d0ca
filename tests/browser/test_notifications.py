"""Notifications in a real browser: the badge of every open tab follows reading, and the page and the
404 pass axe-core in light and dark mode."""

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from polls import services
from polls.tests.factories import PollFactory, pick, visitor
from polls.voters import Voter
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_creating import log_in


@pytest.fixture
def author_with_news():
    """An author whose poll got a like and three votes: two grouped notices, both unread."""
    author, fan = UserFactory(), UserFactory()
    poll = PollFactory(author=author, title="Lunch?", options=["Soup", "Salad"])
    services.like_poll(poll=poll, voter=Voter(user=fan))
    for number in range(3):
        services.cast_vote(poll=poll, voter=visitor(number + 1), option_ids=pick(poll, "Soup"))
    return author


def test_viewing_the_notifications_drops_the_badge_in_another_open_tab(live_url, new_page, author_with_news):
    first_tab = new_page()
    log_in(first_tab, live_url, author_with_news)
    badge = first_tab.locator("[data-notification-count]")
    expect(badge).to_have_text("2")
    first_tab.wait_for_timeout(500)  # its user socket is open
    second_tab = first_tab.context.new_page()

    second_tab.goto(f"{live_url}/notifications/")

    expect(second_tab.get_by_text("3 new votes on “Lunch?”.")).to_be_visible()
    expect(second_tab.locator("li.notification.unread")).to_have_count(2)
    expect(badge).to_be_hidden()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", ["/notifications/", "/no-such-page/"])
def test_the_notifications_and_the_404_have_no_serious_accessibility_violations(live_url, new_page, author_with_news, path, scheme):
    page = new_page(bypass_csp=True, color_scheme=scheme)  # axe is injected inline
    log_in(page, live_url, author_with_news)

    page.goto(f"{live_url}{path}")

    assert serious_violations(page) == []
