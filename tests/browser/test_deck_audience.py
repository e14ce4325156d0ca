"""A deck's audience page in a browser: it follows the presenter from poll to poll without reloading, within a
second of each move, and what it swaps in works as the poll's own page does."""

import re
import threading
import time

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from polls import answers, decks
from polls.tests.factories import PollFactory, visitor
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_creating import log_in

FOLLOW_WITHIN = 1.0  # seconds from the presenter's move to the new poll on the audience's screen


@pytest.fixture
def deck(live_url):
    author = UserFactory()
    polls = [
        PollFactory(author=author, title="Warm-up: tea or coffee?", options=["Tea", "Coffee"]),
        PollFactory(author=author, title="Which talk next?", options=["Sockets", "Caching", "Testing"]),
        PollFactory(author=author, title="One word for today", method="text", options=[]),
    ]
    return decks.create_deck(author=author, title="Friday talk", poll_ids=[poll.pk for poll in polls])


def move_from_the_presenters_side(deck, position: int) -> None:
    """The presenter moves the deck (the test's own thread runs Playwright's loop, so a broadcast goes from another)."""
    worker = threading.Thread(target=decks.move, kwargs={"deck": deck, "actor": deck.author, "position": position})
    worker.start()
    worker.join(timeout=10)


def followed_within(page, deck, position: int, title: str) -> float:
    started = time.monotonic()
    move_from_the_presenters_side(deck, position)
    expect(page.locator("h1")).to_have_text(title, timeout=FOLLOW_WITHIN * 1000 * 3)
    return time.monotonic() - started


def test_the_audience_follows_two_moves_without_reloading(live_url, new_page, deck):
    page = new_page()
    page.goto(f"{live_url}/j/{deck.join_code}")
    expect(page.locator("h1")).to_have_text("Warm-up: tea or coffee?")
    expect(page.locator("[data-deck-follow-text]")).to_contain_text("Following the presenter")
    page.evaluate("window.sameDocument = 'still here'")

    took = followed_within(page, deck, 1, "Which talk next?")

    assert took < FOLLOW_WITHIN, f"the audience page took {took:.2f} s to follow"
    assert page.evaluate("window.sameDocument") == "still here"  # swapped in, not reloaded
    expect(page.locator("[data-deck-step]")).to_have_text("Poll 2 of 3")
    expect(page.locator("[data-announcer]")).to_have_text("Now showing: Which talk next?")
    expect(page.locator("h1")).to_be_focused()
    expect(page.locator(".option-card")).to_have_count(3)
    assert page.title().startswith("Which talk next? · Friday talk")

    took = followed_within(page, deck, 2, "One word for today")

    assert took < FOLLOW_WITHIN, f"the audience page took {took:.2f} s to follow"
    assert page.evaluate("window.sameDocument") == "still here"
    expect(page.locator("[data-deck-step]")).to_have_text("Poll 3 of 3")
    expect(page.locator("[data-announcer]")).to_have_text("Now showing: One word for today")
    expect(page.locator(".answers-empty")).to_contain_text("No answers yet")

    # The swapped-in poll works as on its own page: its counter counts, its form comes back to the deck.
    box = page.get_by_role("textbox", name="Your answer")
    box.fill("Sockets!")
    expect(page.locator("[data-answer-counter]")).to_contain_text(re.compile(r"^\d+ characters left"))
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message")).to_have_text("Your answer is in.")
    assert page.url == f"{live_url}/j/{deck.join_code}"
    expect(page.locator(".cloud-word")).to_have_text(["Sockets!"])


def test_the_swapped_in_poll_gets_its_live_results(live_url, new_page, deck):
    audience = new_page()
    audience.goto(f"{live_url}/j/{deck.join_code}")
    expect(audience.locator("[data-deck-follow-text]")).to_contain_text("Following the presenter")
    followed_within(audience, deck, 2, "One word for today")

    # Someone else answers on the poll's own page: the cloud on the deck's page fills live.
    voter = new_page()
    voter.goto(f"{live_url}/p/{deck.current_poll.slug}/")
    voter.get_by_role("textbox", name="Your answer").fill("Brilliant")
    voter.get_by_role("button", name="Send").click()

    expect(audience.locator(".cloud-word")).to_have_text(["Brilliant"], timeout=5_000)
    expect(audience.locator("[data-results-summary]")).to_contain_text("1 answer from 1 person")


def test_the_deck_pages_and_a_word_cloud_have_no_serious_accessibility_violations(live_url, new_page, deck):
    cloud_poll = deck.items.order_by("position").last().poll
    for number, words in enumerate(["Inspiring", "Fun", "fun", "Long", "x" * 60], start=1):
        answers.submit_answer(poll=cloud_poll, voter=visitor(number, ip_address=f"203.0.113.{number}"), text=words)
    page = new_page()
    log_in(page, live_url, deck.author)

    for path in ("/decks/", f"/decks/{deck.pk}/", f"/p/{cloud_poll.slug}/", f"/j/{deck.join_code}"):
        page.goto(f"{live_url}{path}")
        assert serious_violations(page) == [], path
    followed_within(page, deck, 2, "One word for today")
    assert serious_violations(page) == [], "the audience page after a move"


@pytest.mark.parametrize("first_asks_too", [False, True], ids=["first-poll-unprotected", "both-protected"])
def test_a_swapped_in_poll_that_asks_for_proof_of_work_gets_its_widget(live_url, new_page, first_asks_too):
    author = UserFactory()
    first_protection = "always" if first_asks_too else "off"
    first = PollFactory(author=author, title="Warm-up", options=["Yes", "No"], bot_protection=first_protection)
    guarded = PollFactory(author=author, title="Cats or dogs?", options=["Cats", "Dogs"], bot_protection="always")
    deck = decks.create_deck(author=author, title="Pets", poll_ids=[first.pk, guarded.pk])
    page = new_page()
    page.goto(f"{live_url}/j/{deck.join_code}")
    expect(page.locator("[data-deck-follow-text]")).to_contain_text("Following the presenter")

    followed_within(page, deck, 1, "Cats or dogs?")

    expect(page.locator("input[name=altcha]")).to_have_value(re.compile(r".{100,}"))  # solved, as on the poll's page
    page.get_by_label("Dogs", exact=True).check()
    page.get_by_role("button", name="Vote", exact=True).click()
    expect(page.locator(".message")).to_have_text("Your vote is in.")
    assert guarded.ballots.count() == 1
