"""The live room in two browsers: the author presenting on one screen, a visitor's poll page on another. What the
presenter does reaches the audience's page within a second, without reloading it."""

import re
import time

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from polls import answers, presenting, services
from polls.models import Answer
from polls.tests.factories import PollFactory, pick, visitor
from realtime.consumers import QuickPollConsumer
from tests.browser.test_creating import log_in

WITHIN_A_SECOND = 1_000  # ms


@pytest.fixture
def author(live_url):
    return UserFactory(username="speaker")


@pytest.fixture
def poll(author):
    """A poll whose rule shows the results to everyone, with two votes in, presented with the results hidden."""
    poll = PollFactory(author=author, title="Tea or coffee?", options=["Tea", "Coffee"])
    services.cast_vote(poll=poll, voter=visitor(1, ip_address="203.0.113.11"), option_ids=pick(poll, "Coffee"))
    services.cast_vote(poll=poll, voter=visitor(2, ip_address="203.0.113.12"), option_ids=pick(poll, "Coffee"))
    return presenting.present(poll=poll, actor=author, presenting=True, audience_results="hidden")


def presenter_screen(new_page, live_url, author, poll):
    page = new_page(viewport={"width": 1920, "height": 1080})
    log_in(page, live_url, author)
    page.goto(f"{live_url}/p/{poll.slug}/present/")
    expect(page.get_by_text(poll.title).first).to_be_visible()
    return page


def audience_page(new_page, live_url, poll):
    """The visitor's poll page, once its socket is open: while the results are hidden it receives nothing to show."""
    before = QuickPollConsumer.open_connections  # the live server runs in this process
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(f"{live_url}/p/{poll.slug}/")
    page.evaluate("window.stillTheSamePage = true")
    deadline = time.monotonic() + 5
    while QuickPollConsumer.open_connections <= before and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert QuickPollConsumer.open_connections > before, "the audience page opened no socket"
    return page


def shares(page):
    return page.locator("[data-live-results] [data-option-share]")


def test_the_presenter_reveals_and_hides_the_results_and_the_audience_follows_within_a_second(
    live_url, new_page, author, poll
):
    audience = audience_page(new_page, live_url, poll)
    expect(shares(audience)).to_have_count(0)
    expect(audience.locator("[data-live-results]")).not_to_contain_text("2 voters")
    presenter = presenter_screen(new_page, live_url, author, poll)

    expect(presenter.get_by_role("button", name=re.compile("^Reveal results"))).to_be_visible()
    presenter.keyboard.press("r")

    expect(shares(audience)).to_have_count(2, timeout=WITHIN_A_SECOND)
    expect(audience.locator("[data-live-results]")).to_contain_text("2 voters", timeout=WITHIN_A_SECOND)
    expect(shares(audience).last).to_contain_text("100%")
    poll.refresh_from_db()
    assert poll.audience_results == "shown"

    expect(presenter.get_by_role("button", name=re.compile("^Hide results"))).to_be_visible()
    presenter.keyboard.press("r")  # the same key hides them again

    expect(shares(audience)).to_have_count(0, timeout=WITHIN_A_SECOND)
    expect(audience.locator("[data-live-results]")).not_to_contain_text("2 voters", timeout=WITHIN_A_SECOND)
    poll.refresh_from_db()
    assert poll.audience_results == "hidden"
    # All of it live: the audience's page never reloaded.
    assert audience.evaluate("window.stillTheSamePage") is True


@pytest.fixture
def text_poll(author):
    poll = PollFactory(author=author, title="One word for this talk?", method="text", options=[])
    for number, text in enumerate(["Inspiring", "inspiring!", "Zebra rubbish", "Long"], start=1):
        answers.submit_answer(poll=poll, voter=visitor(number, ip_address=f"203.0.113.{20 + number}"), text=text)
    return presenting.present(poll=poll, actor=author, presenting=True, audience_results="shown")


def test_the_presenter_hides_an_answer_group_and_it_leaves_the_audiences_page_within_a_second(
    live_url, new_page, author, text_poll
):
    audience = audience_page(new_page, live_url, text_poll)
    results = audience.locator("[data-live-results]")
    expect(results).to_contain_text("Zebra rubbish")
    expect(results).to_contain_text(re.compile("Inspiring", re.IGNORECASE))
    presenter = presenter_screen(new_page, live_url, author, text_poll)

    group = presenter.locator("[data-answer-key]", has_text="Zebra rubbish")
    group.get_by_role("button", name=re.compile("^Hide")).click()

    expect(results).not_to_contain_text("Zebra rubbish", timeout=WITHIN_A_SECOND)
    expect(results).to_contain_text(re.compile("Inspiring", re.IGNORECASE))
    hidden = Answer.objects.filter(poll=text_poll, key=answers.normalise("Zebra rubbish")).values_list("hidden", flat=True)
    assert set(hidden) == {True}
    assert audience.evaluate("window.stillTheSamePage") is True
