"""Ranked and score ballots in a browser: ranking by keyboard, by drag and without JavaScript, stars by keyboard,
the instant-runoff rounds stepped through and updated live, and the pages' accessibility."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from polls import services
from polls.models import Vote
from polls.tests.factories import PollFactory, pick, visitor
from tests.browser.test_accessibility import serious_violations

LANGUAGES = ["Python", "Rust", "Go", "Kotlin"]


def _cast(poll, *ballots):
    """Ballots from other voters: rankings (lists of option texts) or scores ({text: score})."""
    for number, ballot in enumerate(ballots, start=1):
        voter = visitor(number, ip_address=f"198.51.100.{number}")
        if isinstance(ballot, dict):
            services.cast_vote(poll=poll, voter=voter, scores={pick(poll, text)[0]: score for text, score in ballot.items()})
        else:
            services.cast_vote(poll=poll, voter=voter, option_ids=pick(poll, *ballot))


def _mine(poll):
    """The votes cast from the browser (the ballots _cast made come from "visitor-" voters)."""
    return Vote.objects.filter(poll=poll).exclude(ballot__anon_id__startswith="visitor-")


def _my_ranking(poll) -> list[str]:
    return list(_mine(poll).order_by("rank").values_list("option__text", flat=True))


@pytest.fixture
def ranked_poll(live_url):
    poll = PollFactory(
        author=UserFactory(), title="Which language?", options=LANGUAGES, method="ranked", bot_protection="off"
    )
    # Python 2, Rust 2, Go 1 first choices: Kotlin, then Go go out, and Go's ballot decides.
    _cast(poll, ["Python"], ["Python", "Go"], ["Rust", "Go"], ["Rust"], ["Go", "Rust"])
    return poll


def _card(page, option: str):
    return page.locator(".option-card", has=page.locator(".option-text", has_text=re.compile(f"^{option}$")))


def _handle(page, option: str):
    return page.get_by_role("button", name=re.compile(f"^{option}: "))


def test_a_voter_ranks_by_keyboard_and_steps_through_the_rounds(live_url, new_page, ranked_poll):
    page = new_page()
    page.goto(f"{live_url}/p/{ranked_poll.slug}/")
    announcer = page.locator("[data-announcer]")
    expect(page.locator(".rank-select").first).to_be_hidden()  # the sortable list stands in for the selects

    _handle(page, "Go").focus()
    page.keyboard.press("Space")  # from "Not ranked": added at the end and picked up
    page.keyboard.press("Space")
    expect(announcer).to_have_text("Go dropped at position 1 of 1")
    _handle(page, "Kotlin").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowUp")
    expect(announcer).to_have_text("Kotlin moved to position 1 of 2")
    page.keyboard.press("Space")
    _handle(page, "Python").focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Escape")  # put back: not ranked after all
    expect(announcer).to_contain_text("Move cancelled")
    expect(_handle(page, "Python")).to_have_accessible_name("Python: not ranked")
    expect(_handle(page, "Kotlin")).to_have_accessible_name("Kotlin: 1st of 2 in your ranking")
    page.get_by_role("button", name="Vote", exact=True).click()

    expect(page.get_by_text("Your vote is in.")).to_be_visible()
    assert _my_ranking(ranked_poll) == ["Kotlin", "Go"]
    # Kotlin out in round 1 (tied with Go, later in the poll), its ballot moves to Go; Go out in round 2
    # (fewest first choices in a three-way tie), one ballot on to Rust, the other (Kotlin, Go) exhausted;
    # Rust wins round 3, 3 to 2.
    count = page.locator("[data-irv]")
    expect(count.locator("[data-irv-position]")).to_have_text("Round 3 of 3")
    expect(count.locator(".irv-round:visible")).to_contain_text("Rust has more than half")
    expect(page.locator(".option-card.is-winner")).to_contain_text("Rust")
    count.get_by_role("button", name="Previous round").click()
    expect(count.locator("[data-irv-position]")).to_have_text("Round 2 of 3")
    expect(count.locator(".irv-round:visible")).to_contain_text(
        "Python, Rust and Go tied for the fewest votes (2); Go had the fewest first choices, so it is out. "
        "Its 2 ballots moved on: 1 to Rust; 1 exhausted (no other choice left)."
    )
    # The cards follow the round shown: Go still in with 2 of 6, Kotlin already out.
    expect(page.locator(".option-card", has_text="Go").locator(".option-count")).to_have_text("2 votes")
    expect(page.locator(".option-card", has_text="Kotlin").locator(".option-percent")).to_have_text("Out")
    count.get_by_role("button", name="Previous round").click()
    expect(count.get_by_role("button", name="Previous round")).to_be_disabled()
    expect(count.locator(".irv-round:visible")).to_contain_text(
        "Go and Kotlin tied for the fewest votes (1) and first choices; Kotlin comes later in the poll, so it is out."
    )
    count.get_by_role("button", name="Next round").click()
    count.get_by_role("button", name="Next round").click()
    expect(page.locator(".option-card.is-winner")).to_contain_text("Rust")


def test_a_voter_ranks_by_dragging(live_url, new_page, ranked_poll):
    page = new_page()
    page.goto(f"{live_url}/p/{ranked_poll.slug}/")

    def drag(option: str, target):
        handle = _handle(page, option).bounding_box()
        page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
        page.mouse.down()
        box = target.bounding_box()
        page.mouse.move(box["x"] + 40, box["y"] + 4, steps=8)
        page.mouse.up()

    drag("Rust", page.locator(".ranking-empty"))
    expect(_handle(page, "Rust")).to_have_accessible_name("Rust: 1st of 1 in your ranking")
    drag("Python", page.locator(".ranking-list .option-card").first)  # above Rust
    expect(_handle(page, "Python")).to_have_accessible_name("Python: 1st of 2 in your ranking")
    expect(page.locator("[data-announcer]")).to_have_text("Python moved to position 1 of 2")
    page.get_by_role("button", name="Vote", exact=True).click()

    expect(page.get_by_text("Your vote is in.")).to_be_visible()
    assert _my_ranking(ranked_poll) == ["Python", "Rust"]


def test_ranking_works_with_javascript_off(live_url, new_page, ranked_poll):
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_url}/p/{ranked_poll.slug}/")
    page.get_by_label("Your rank for Go").select_option("1st choice")
    page.get_by_label("Your rank for Rust").select_option("1st choice")
    page.get_by_role("button", name="Vote", exact=True).click()

    # Refused with the marks kept: each option needs its own place.
    expect(page.get_by_role("alert")).to_contain_text("Two options are ranked 1")
    expect(page.get_by_label("Your rank for Go")).to_have_value("1")
    page.get_by_label("Your rank for Rust").select_option("2nd choice")
    page.get_by_role("button", name="Vote", exact=True).click()

    expect(page.get_by_text("Your vote is in.")).to_be_visible()
    assert _my_ranking(ranked_poll) == ["Go", "Rust"]
    # Without the script every round is listed, in order.
    rounds = page.locator(".irv-round")
    expect(rounds).to_have_count(3)
    expect(rounds.first).to_contain_text("Round 1 of 3: first choices")
    expect(page.locator("[data-irv-steps]")).to_be_hidden()


def test_a_new_ballot_brings_new_rounds_live(live_url, new_page):
    poll = PollFactory(
        author=UserFactory(), title="Which language?", options=["Python", "Rust", "Go"], method="ranked", bot_protection="off"
    )
    _cast(poll, ["Python"], ["Python"], ["Rust"], ["Go", "Rust"])
    watcher = new_page()
    watcher.goto(f"{live_url}/p/{poll.slug}/")
    _card(watcher, "Python").get_by_role("button", name="Add to my ranking").click()
    watcher.get_by_role("button", name="Vote", exact=True).click()
    expect(watcher.locator("[data-irv-position]")).to_have_text("Round 1 of 1")  # Python: 3 of 5
    expect(watcher.locator("[data-live-status]")).to_be_visible()

    voter = new_page(java_script_enabled=False)
    voter.goto(f"{live_url}/p/{poll.slug}/")
    voter.get_by_label("Your rank for Go").select_option("1st choice")
    voter.get_by_role("button", name="Vote", exact=True).click()

    # Python 3 of 6 is no majority: Rust goes out, its ballot has no other choice; Python wins round 2, 3 to 2.
    expect(watcher.locator("[data-results-summary]")).to_contain_text("6 ballots · 2 rounds", timeout=10_000)
    expect(watcher.locator("[data-irv-position]")).to_have_text("Round 2 of 2", timeout=10_000)  # after the replay
    expect(watcher.locator(".irv-round:visible")).to_contain_text("1 ballot ran out of choices")
    expect(watcher.locator(".option-card.is-winner")).to_contain_text("Python")


@pytest.fixture
def score_poll(live_url):
    poll = PollFactory(
        author=UserFactory(), title="Rate the venues", options=["Lodge", "Loft"], method="score", bot_protection="off"
    )
    _cast(poll, {"Lodge": 5, "Loft": 2}, {"Lodge": 4})
    return poll


def test_a_voter_rates_with_the_keyboard(live_url, new_page, score_poll):
    page = new_page()
    page.goto(f"{live_url}/p/{score_poll.slug}/")
    lodge = page.get_by_role("group", name="Lodge")
    expect(lodge.get_by_role("radio", name="3 stars of 5")).to_have_count(1)
    lodge.get_by_role("radio", name="No rating").focus()
    for _ in range(4):  # No rating, 0, 1, 2, 3
        page.keyboard.press("ArrowRight")
    expect(lodge.get_by_role("radio", name="3 stars of 5")).to_be_checked()
    page.get_by_role("group", name="Loft").get_by_title("1 star of 5").click()
    page.get_by_role("button", name="Vote", exact=True).click()

    expect(page.get_by_text("Your vote is in.")).to_be_visible()
    assert dict(_mine(score_poll).values_list("option__text", "score")) == {"Lodge": 3, "Loft": 1}
    lodge_card = page.locator(".option-card", has_text="Lodge")
    expect(lodge_card.locator(".option-percent")).to_have_text("4.0 ★ stars")
    expect(lodge_card.locator(".option-count")).to_have_text("of 5 · 3 ratings")
    spread = re.compile(r"^Ratings: 0 stars, 0;.* 3 stars, 1;.* 5 stars, 1$")
    expect(lodge_card.get_by_role("img")).to_have_accessible_name(spread)


@pytest.mark.parametrize("method", ["ranked", "score"])
def test_voting_method_pages_have_no_serious_violations(live_url, new_page, ranked_poll, score_poll, method):
    poll = ranked_poll if method == "ranked" else score_poll
    page = new_page()
    page.goto(f"{live_url}/p/{poll.slug}/")
    assert serious_violations(page) == []  # the ballot
    if method == "ranked":
        _card(page, "Rust").get_by_role("button", name="Add to my ranking").click()
    else:
        page.get_by_role("group", name="Lodge").get_by_title("4 stars of 5").click()
    page.get_by_role("button", name="Vote", exact=True).click()
    expect(page.get_by_text("Your vote is in.")).to_be_visible()
    assert serious_violations(page) == []  # the results
