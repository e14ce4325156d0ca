"""The polls pages: browse, a poll's page, every form post on it, creating and editing."""

import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from polls import services
from polls.models import Ballot, Option, Poll, Report
from polls.tests.factories import PollFactory, like_counts, pick, visitor, vote_counts
from polls.voters import ANON_COOKIE
from realtime import events
from quickpoll.tests.pages import block_of, field_block, field_errors, login_redirect, shown_messages, signed_in, text

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


@pytest.fixture
def as_owner(owner):
    return signed_in(owner)


@pytest.fixture
def as_other(other_user):
    return signed_in(other_user)


@pytest.fixture
def as_staff(staff_user):
    return signed_in(staff_user)


def page_of(poll: Poll, action: str = "") -> str:
    return f"/p/{poll.slug}/{action}"


def vote(client, poll, *texts, follow=True):
    return client.post(page_of(poll, "vote/"), {"option": [str(pk) for pk in pick(poll, *texts)]}, follow=follow)


def close(poll: Poll) -> None:
    Poll.objects.filter(pk=poll.pk).update(is_active=False)
    poll.refresh_from_db()


def expire(poll: Poll) -> None:
    Poll.objects.filter(pk=poll.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    poll.refresh_from_db()


def cards(response) -> list[str]:
    """Titles of the poll cards on a list page, in order."""
    return re.findall(r'<article class="card">\s*<h3><a href="[^"]*">(.*?)</a>', response.content.decode())


SHARE = re.compile(r'<strong class="option-percent">(.*?)</strong> <span class="option-count">(.*?)</span>')


def counts_shown(response) -> list[str]:
    """The "votes · percentage" of each option card, as rendered (none where results are hidden)."""
    html = response if isinstance(response, str) else response.content.decode()
    return [f"{count} · {percent}" for percent, count in SHARE.findall(html)]


# --- browse -----------------------------------------------------------------------------------


def test_browse_pages_public_polls_twelve_at_a_time_newest_first(owner):
    titles = [f"Question {letter}" for letter in "ABCDEFGHIJKLM"]  # 13
    for title in titles:
        PollFactory(author=owner, title=title)
    PollFactory(author=owner, title="Hidden question", is_public=False)

    first = Client().get("/polls/")
    second = Client().get("/polls/", {"page": 2})

    assert first.status_code == 200 and second.status_code == 200
    assert cards(first) == titles[::-1][:12]
    assert cards(second) == titles[:1]
    assert "13 polls" in text(first) and "Page 1 of 2" in text(first) and "Page 2 of 2" in text(second)
    assert "Hidden question" not in text(first) + text(second)


def test_browse_survives_a_page_number_that_is_not_one(poll):
    for page in ("abc", "99", "-1"):
        response = Client().get("/polls/", {"page": page})
        assert response.status_code == 200
        assert cards(response) == ["Favourite colour?"]


@pytest.mark.parametrize(
    "query",
    ["breakfast", "BREAKFAST", "toast", "pancakes"],
    ids=["title", "title-any-case", "description", "option"],
)
def test_browse_searches_titles_descriptions_and_options(owner, query):
    PollFactory(
        author=owner,
        title="Best breakfast",
        description="Toast is allowed.",
        options=["Pancakes", "Porridge"],
    )
    PollFactory(author=owner, title="Favourite colour", options=["Red", "Green"])

    response = Client().get("/polls/", {"q": query})

    assert response.status_code == 200
    assert cards(response) == ["Best breakfast"]
    assert f"Polls matching “{query}”" in text(response)


def test_search_never_finds_an_unlisted_poll(owner):
    PollFactory(author=owner, title="Secret breakfast", is_public=False)

    response = Client().get("/polls/", {"q": "breakfast"})

    assert cards(response) == []
    assert "Nothing found" in text(response)


@pytest.mark.parametrize("query", ["' OR 1=1 --", "'; DROP TABLE polls_poll; --", '" OR ""="', "%", "_"])
def test_search_with_sql_looking_input_is_plain_text(owner, query):
    PollFactory(author=owner, title="Best breakfast", options=["Pancakes", "Porridge"])
    PollFactory(author=owner, title="Favourite colour", options=["Red", "Green"])

    response = Client().get("/polls/", {"q": query})

    assert response.status_code == 200
    assert cards(response) == []
    assert Poll.objects.count() == 2


def test_search_with_a_nul_character_answers_like_any_other(owner):
    PollFactory(author=owner, title="Best breakfast", options=["Pancakes", "Porridge"])

    response = Client().get("/polls/", {"q": "breakfast\x00"})

    assert response.status_code == 200  # a 500 on PostgreSQL, which refuses NUL in a query
    assert len(cards(response)) == 1


def test_browse_filters_open_and_closed_polls(owner):
    PollFactory(author=owner, title="Still open")
    close(PollFactory(author=owner, title="Closed by hand"))
    expire(PollFactory(author=owner, title="Ran out of time"))

    assert cards(Client().get("/polls/", {"status": "open"})) == ["Still open"]
    assert sorted(cards(Client().get("/polls/", {"status": "closed"}))) == ["Closed by hand", "Ran out of time"]
    assert len(cards(Client().get("/polls/"))) == 3


def test_browse_filters_polls_by_how_they_vote(poll, multi_poll):
    response = Client().get("/polls/", {"method": "approval"})

    assert cards(response) == ["Colours you like"]
    assert '<option value="approval" selected>Approval</option>' in response.content.decode()


def test_browse_pagination_links_keep_the_filters(owner):
    for letter in "ABCDEFGHIJKLM":
        PollFactory(author=owner, title=f"Open question {letter}")

    response = Client().get("/polls/", {"status": "open", "q": "question"})

    assert '<a href="?status=open&q=question&page=2" rel="next">Next</a>' in text(response)


def test_browse_is_read_only(poll):
    assert Client().post("/polls/").status_code == 405


# --- a poll's page ----------------------------------------------------------------------------


def test_a_poll_opens_by_slug_and_by_id(poll):
    for ref in (poll.slug, str(poll.pk)):
        response = Client().get(f"/p/{ref}/")
        assert response.status_code == 200
        assert "<h1>Favourite colour?</h1>" in text(response)
        assert re.findall(r'<span class="option-text" id="option-text-[^"]+">(.*?)</span>', text(response)) == [
            "Red",
            "Green",
            "Blue",
        ]


@pytest.mark.parametrize("ref", ["no-such-poll", str(uuid.uuid4())], ids=["slug", "id"])
def test_an_unknown_poll_is_a_friendly_404(db, ref):
    response = Client().get(f"/p/{ref}/")

    assert response.status_code == 404
    assert "Not found" in text(response) and "The link may be old, or the poll deleted." in text(response)
    assert "Back to the polls" in text(response)


def test_an_unlisted_poll_opens_by_its_link(owner):
    unlisted = PollFactory(author=owner, title="Just for friends", is_public=False)

    response = Client().get(page_of(unlisted))

    assert response.status_code == 200
    assert '<span class="tag">unlisted</span>' in text(response)


def test_a_slug_that_happens_to_look_like_a_uuid_still_opens(owner):
    poll = PollFactory(author=owner, title="0123456789abcdef0123456789")
    Poll.objects.filter(pk=poll.pk).update(slug="0123456789abcdef0123456789-abcdef")

    assert Client().get("/p/0123456789abcdef0123456789-abcdef/").status_code == 200


def test_single_choice_shows_radios_and_multiple_choice_checkboxes(poll, multi_poll):
    single = Client().get(page_of(poll)).content.decode()
    multiple = Client().get(page_of(multi_poll)).content.decode()

    assert single.count('type="radio" name="option"') == 3 and 'type="checkbox" name="option"' not in single
    assert multiple.count('type="checkbox" name="option"') == 3 and 'type="radio" name="option"' not in multiple
    assert "Pick one option" in single and "Pick up to 2 options" in multiple


def test_after_voting_the_form_gives_way_to_change_my_vote(poll):
    browser = Client()

    response = vote(browser, poll, "Green")

    html = response.content.decode()
    assert 'class="vote-form"' not in html
    assert "Change my vote" in html
    assert re.search(r'<li class="option-card is-leader is-mine" data-option-id="%s">' % pick(poll, "Green")[0], html)


@pytest.mark.parametrize("ending", [close, expire], ids=["closed", "expired"])
def test_a_poll_that_ended_shows_no_form(poll, ending):
    ending(poll)

    response = Client().get(page_of(poll))

    assert 'class="vote-form"' not in response.content.decode()
    assert "Voting has ended." in text(response)
    assert "final results" in text(response)


def test_a_members_only_poll_asks_visitors_to_log_in(owner, other_user):
    members = PollFactory(author=owner, title="Members only", allow_anonymous=False)

    anonymous = Client().get(page_of(members))
    member = signed_in(other_user).get(page_of(members))

    assert "This poll is for members." in text(anonymous)
    assert f'href="/accounts/login/?next=/p/{members.slug}/"' in text(anonymous)
    assert 'class="vote-form"' not in anonymous.content.decode()
    assert 'class="vote-form"' in member.content.decode()


def test_results_shown_after_voting_stay_hidden_until_then(owner):
    hidden = PollFactory(author=owner, title="Guess first", results_visibility=Poll.ResultsVisibility.AFTER_VOTE)
    browser = Client()

    before = browser.get(page_of(hidden))
    after = vote(browser, hidden, "Red")

    assert "Results show once you have voted." in text(before) and counts_shown(before) == []
    assert counts_shown(after) == ["1 vote · 100%", "0 votes · 0%", "0 votes · 0%"]


def test_owner_only_results_are_the_authors(owner, other_user):
    secret = PollFactory(author=owner, title="Private tally", results_visibility=Poll.ResultsVisibility.OWNER_ONLY)
    services.cast_vote(poll=secret, voter=visitor(1), option_ids=pick(secret, "Blue"))

    others = [Client().get(page_of(secret)), signed_in(other_user).get(page_of(secret))]
    mine = signed_in(owner).get(page_of(secret))

    for response in others:
        assert "Only the poll's author sees the results." in text(response)
        assert counts_shown(response) == []
    assert counts_shown(mine) == ["0 votes · 0%", "0 votes · 0%", "1 vote · 100%"]


def test_the_author_manages_the_poll_from_its_page(poll, as_owner):
    html = as_owner.get(page_of(poll)).content.decode()

    assert '<h2 id="manage-heading">Manage</h2>' in html
    assert f'href="/p/{poll.slug}/edit/"' in html
    assert f'href="/api/polls/{poll.pk}/export?format=csv"' in html
    assert f'href="/api/polls/{poll.pk}/export?format=json"' in html
    assert f'action="/p/{poll.slug}/open/"' in html and "Close the poll" in html
    assert f'action="/p/{poll.slug}/delete/"' in html
    assert "chart-svg" not in html  # no votes, no chart


def test_a_closed_poll_offers_its_author_to_reopen_it(poll, as_owner):
    close(poll)

    html = as_owner.get(page_of(poll)).content.decode()

    assert "Reopen the poll" in html and '<input type="hidden" name="open" value="1">' in html


def test_staff_see_the_manage_section_too(poll, as_staff):
    assert '<h2 id="manage-heading">Manage</h2>' in as_staff.get(page_of(poll)).content.decode()


@pytest.mark.parametrize("who", ["anonymous", "other"])
def test_nobody_else_sees_the_manage_section(poll, other_user, who):
    services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Red"))
    browser = Client() if who == "anonymous" else signed_in(other_user)

    html = browser.get(page_of(poll)).content.decode()

    assert "manage-heading" not in html and "/edit/" not in html and "/delete/" not in html
    assert "chart-svg" not in html and "export?format" not in html


def test_the_author_sees_votes_per_hour_once_votes_exist(poll, as_owner):
    for number in (1, 2):
        services.cast_vote(poll=poll, voter=visitor(number), option_ids=pick(poll, "Red"))

    html = as_owner.get(page_of(poll)).content.decode()

    chart = re.search(r'<svg class="chart-svg" viewBox="0 0 320 180" role="img"\s+aria-label="([^"]*)">(.*?)</svg>', html, re.S)
    assert chart
    label, drawing = chart.groups()
    assert label.startswith("Votes per hour: 2 votes in the last 6 hours; the busiest hour, ")
    bars = re.findall(r'<rect class="chart-bar" [^>]*height="([\d.]+)"><title>(\d\d:00): (\d+) votes?</title></rect>', drawing)
    assert len(bars) == 6 and [votes for *_, votes in bars] == ["0"] * 5 + ["2"]
    assert float(bars[-1][0]) == 140.0  # the busiest hour reaches the top gridline
    assert re.findall(r'<text class="chart-label" [^>]*text-anchor="end"[^>]*>(\d+)</text>', drawing) == ["0", "1", "2"]
    assert len(re.findall(r'text-anchor="middle">\d\d:00</text>', drawing)) == 6
    assert "<caption>Votes per hour</caption>" in html  # the same numbers as a table, for screen readers


def test_html_in_titles_descriptions_and_options_is_escaped(owner):
    poll = PollFactory(author=owner, title=f"Title {XSS}", description=f"About {XSS}", options=[XSS, "Plain"])
    services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, XSS))

    pages = [
        Client().get(page_of(poll)),
        signed_in(owner).get(page_of(poll)),
        Client().get("/polls/"),
        Client().get("/"),
        signed_in(owner).get(page_of(poll, "edit/")),
    ]

    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert XSS not in html and "<script>alert" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- the results block ------------------------------------------------------------------------


def test_the_live_results_block_has_the_numbers_of_the_page(poll):
    """The page and every live snapshot render one template, so they never disagree."""
    for number, colour in enumerate(["Red", "Red", "Green"], start=1):
        services.cast_vote(poll=poll, voter=visitor(number), option_ids=pick(poll, colour))

    live = events.results_message(poll.pk)["html"]
    full = Client().get(page_of(poll))

    assert counts_shown(live) == counts_shown(full) == ["2 votes · 66.7%", "1 vote · 33.3%", "0 votes · 0%"]
    assert "<strong>3</strong> voters" in live


# --- every action: POST only, CSRF-protected, 404 for a missing poll --------------------------

ACTIONS = ["vote/", "retract/", "like/", "report/", "open/", "delete/"]


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_refuse_get(poll, as_other, action):
    assert as_other.get(page_of(poll, action)).status_code == 405


@pytest.mark.parametrize("action", ACTIONS + ["edit/"])
def test_actions_on_a_missing_poll_are_a_friendly_404(db, as_other, action):
    response = as_other.post(f"/p/no-such-poll/{action}")

    assert response.status_code == 404
    assert "The link may be old, or the poll deleted." in text(response)


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_without_a_csrf_token_are_forbidden(poll, other_user, action):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(other_user)

    response = browser.post(page_of(poll, action), {"option": pick(poll, "Red"), "reason": "spam"})

    assert response.status_code == 403
    assert vote_counts(poll) == (0, 0, 0) and like_counts(poll) == (0, 0)
    assert Poll.objects.filter(pk=poll.pk, is_active=True).exists() and not Report.objects.exists()


def test_a_vote_with_the_pages_csrf_token_counts(poll):
    browser = Client(enforce_csrf_checks=True)
    browser.get(page_of(poll))
    token = browser.cookies["csrftoken"].value

    response = browser.post(page_of(poll, "vote/"), {"option": pick(poll, "Red"), "csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert vote_counts(poll) == (1, 1, 1)


def test_an_anonymous_post_with_a_forged_token_is_forbidden(poll):
    browser = Client(enforce_csrf_checks=True)
    browser.get(page_of(poll))

    response = browser.post(page_of(poll, "like/"), {"csrfmiddlewaretoken": "x" * 32})

    assert response.status_code == 403
    assert like_counts(poll) == (0, 0)


@pytest.mark.parametrize(
    "method, action, data",
    [("get", "", {}), ("get", "results/", {}), ("post", "retract/", {}), ("post", "like/", {"undo": "1"})],
    ids=["page", "results", "retract", "unlike"],
)
def test_a_malformed_anon_id_header_is_not_a_server_error(poll, method, action, data):
    browser = Client(raise_request_exception=False)

    response = getattr(browser, method)(page_of(poll, action), data, headers={"X-Anon-Id": "bad"})

    assert response.status_code < 500


@pytest.mark.parametrize("action", ["vote/", "like/"])
def test_a_malformed_anon_id_header_on_vote_and_like_is_a_message(poll, action):
    browser = Client()

    posted = browser.post(page_of(poll, action), {"option": pick(poll, "Red")}, headers={"X-Anon-Id": "bad"})

    assert posted.status_code == 302
    message = "X-Anon-Id must be 16 to 64 letters, digits, '-' or '_'."
    assert shown_messages(browser.get(page_of(poll))) == [("error", message)]
    assert vote_counts(poll) == (0, 0, 0) and like_counts(poll) == (0, 0)


# --- voting -----------------------------------------------------------------------------------


def test_an_anonymous_vote_counts_and_the_visitor_gets_a_cookie(poll):
    browser = Client()

    response = vote(browser, poll, "Green", follow=False)

    assert response.status_code == 302 and response["Location"] == page_of(poll)
    cookie = response.cookies[ANON_COOKIE]
    assert cookie["httponly"] and cookie["max-age"] == 365 * 24 * 3600
    ballot = Ballot.objects.get()
    assert (ballot.user, ballot.anon_id) == (None, cookie.value)
    assert vote_counts(poll) == (1, 1, 1)
    assert Option.objects.get(poll=poll, text="Green").vote_count == 1
    assert shown_messages(browser.get(page_of(poll))) == [("success", "Your vote is in.")]


def test_voting_twice_is_refused_with_a_message(poll):
    browser = Client()
    vote(browser, poll, "Green")

    response = vote(browser, poll, "Red")

    assert response.status_code == 200
    assert shown_messages(response) == [("error", "You have already voted on this poll.")]
    assert vote_counts(poll) == (1, 1, 1)
    assert Option.objects.get(poll=poll, text="Red").vote_count == 0


def test_a_member_votes_once_whatever_the_browser(poll, other_user):
    vote(signed_in(other_user), poll, "Red")

    response = vote(signed_in(other_user), poll, "Blue")

    assert shown_messages(response) == [("error", "You have already voted on this poll.")]
    assert Ballot.objects.get().user == other_user
    assert vote_counts(poll) == (1, 1, 1)


@pytest.mark.parametrize(
    "chosen, message",
    [
        (lambda poll: [], "Pick at least one option."),
        (lambda poll: pick(poll, "Red", "Green"), "This poll takes one option."),
        (lambda poll: ["not-an-id"], "Pick options of this poll."),
        (lambda poll: [uuid.uuid4()], "Pick options of this poll."),
    ],
    ids=["none", "two-on-single-choice", "garbage", "unknown-id"],
)
def test_a_bad_ballot_is_refused_with_a_message(poll, chosen, message):
    response = Client().post(page_of(poll, "vote/"), {"option": [str(pk) for pk in chosen(poll)]}, follow=True)

    assert response.status_code == 400
    assert f'<p class="notice error vote-error" id="vote-error" role="alert">{message}</p>' in text(response)
    assert vote_counts(poll) == (0, 0, 0)


def test_an_option_of_another_poll_is_refused(poll, owner):
    elsewhere = PollFactory(author=owner, title="Elsewhere")

    response = Client().post(page_of(poll, "vote/"), {"option": pick(elsewhere, "Red")}, follow=True)

    assert response.status_code == 400 and "Pick options of this poll." in text(response)
    assert vote_counts(poll) == vote_counts(elsewhere) == (0, 0, 0)


def test_multiple_choice_takes_up_to_its_limit(multi_poll):
    too_many = vote(Client(), multi_poll, "Red", "Green", "Blue")
    assert too_many.status_code == 400 and "Pick at most 2 options." in text(too_many)
    assert vote_counts(multi_poll) == (0, 0, 0)

    vote(Client(), multi_poll, "Red", "Green")
    assert vote_counts(multi_poll) == (2, 2, 2)
    assert list(multi_poll.options.values_list("vote_count", flat=True)) == [1, 1, 0]


@pytest.mark.parametrize("ending", [close, expire], ids=["closed", "expired"])
def test_a_vote_on_an_ended_poll_is_refused(poll, ending):
    ending(poll)

    response = vote(Client(), poll, "Red")

    assert shown_messages(response) == [("error", "This poll is closed.")]
    assert vote_counts(poll) == (0, 0, 0)


def test_a_members_only_poll_refuses_anonymous_votes(owner, other_user):
    members = PollFactory(author=owner, title="Members only", allow_anonymous=False)

    refused = vote(Client(), members, "Red")
    counted = vote(signed_in(other_user), members, "Red")

    assert shown_messages(refused) == [("error", "Log in to take part in this poll.")]
    assert shown_messages(counted) == [("success", "Your vote is in.")]
    assert vote_counts(members) == (1, 1, 1)


# --- taking a vote back -----------------------------------------------------------------------


def test_retracting_moves_the_counters_back_and_allows_a_new_vote(multi_poll):
    browser = Client()
    vote(browser, multi_poll, "Red", "Green")
    assert vote_counts(multi_poll) == (2, 2, 2)

    response = browser.post(page_of(multi_poll, "retract/"), follow=True)

    assert shown_messages(response) == [("success", "Your vote is taken back; you can vote again.")]
    assert vote_counts(multi_poll) == (0, 0, 0) and not Ballot.objects.exists()
    assert 'class="vote-form"' in response.content.decode()

    vote(browser, multi_poll, "Blue")
    assert vote_counts(multi_poll) == (1, 1, 1)
    assert list(multi_poll.options.values_list("vote_count", flat=True)) == [0, 0, 1]


def test_retracting_takes_back_only_ones_own_ballot(poll):
    services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Red"))
    browser = Client()
    vote(browser, poll, "Blue")

    browser.post(page_of(poll, "retract/"))

    assert vote_counts(poll) == (1, 1, 1)
    assert Ballot.objects.get().anon_id == "visitor-1"


@pytest.mark.parametrize("has_cookie", [False, True], ids=["never-took-part", "liked-only"])
def test_retracting_without_a_ballot_is_refused_with_a_message(poll, has_cookie):
    browser = Client()
    if has_cookie:
        browser.post(page_of(poll, "like/"), follow=True)

    response = browser.post(page_of(poll, "retract/"), follow=True)

    assert shown_messages(response) == [("error", "You have not voted on this poll.")]
    assert vote_counts(poll) == (0, 0, 0)


def test_retracting_on_a_closed_poll_is_refused(poll):
    browser = Client()
    vote(browser, poll, "Red")
    close(poll)

    response = browser.post(page_of(poll, "retract/"), follow=True)

    assert shown_messages(response) == [("error", "This poll is closed.")]
    assert vote_counts(poll) == (1, 1, 1)


# --- likes ------------------------------------------------------------------------------------


def test_like_and_unlike_toggle_the_counter(poll):
    browser = Client()

    liked = browser.post(page_of(poll, "like/"), follow=True)

    assert shown_messages(liked) == [("success", "Liked.")]
    assert like_counts(poll) == (1, 1)
    html = liked.content.decode()
    assert '<input type="hidden" name="undo" value="1">' in html and 'aria-pressed="true"' in html
    assert re.search(r"Liked · <span data-likes>1</span>", html)

    unliked = browser.post(page_of(poll, "like/"), {"undo": "1"}, follow=True)

    assert shown_messages(unliked) == [("success", "You no longer like this poll.")]
    assert like_counts(poll) == (0, 0)
    assert re.search(r"Like · <span data-likes>0</span>", unliked.content.decode())


def test_liking_twice_is_refused(poll, as_other):
    as_other.post(page_of(poll, "like/"), follow=True)

    response = as_other.post(page_of(poll, "like/"), follow=True)

    assert shown_messages(response) == [("error", "You already like this poll.")]
    assert like_counts(poll) == (1, 1)


@pytest.mark.parametrize("has_cookie", [False, True], ids=["never-took-part", "voted-only"])
def test_unliking_without_a_like_is_refused(poll, has_cookie):
    services.like_poll(poll=poll, voter=visitor(1))
    browser = Client()
    if has_cookie:
        vote(browser, poll, "Red")

    response = browser.post(page_of(poll, "like/"), {"undo": "1"}, follow=True)

    assert shown_messages(response) == [("error", "You do not like this poll.")]
    assert like_counts(poll) == (1, 1)


def test_an_anonymous_like_on_a_members_only_poll_is_refused(owner, other_user):
    members = PollFactory(author=owner, title="Members only", allow_anonymous=False)

    refused = Client().post(page_of(members, "like/"), follow=True)
    counted = signed_in(other_user).post(page_of(members, "like/"), follow=True)

    assert shown_messages(refused) == [("error", "Log in to take part in this poll.")]
    assert shown_messages(counted) == [("success", "Liked.")]
    assert like_counts(members) == (1, 1)


# --- reports ----------------------------------------------------------------------------------


def test_reporting_needs_an_account(poll):
    response = Client().post(page_of(poll, "report/"), {"reason": "spam"})

    assert response.status_code == 302
    # Back to the poll after logging in, not to the POST-only action.
    assert response["Location"] == login_redirect(page_of(poll))
    assert not Report.objects.exists()


def test_a_report_is_recorded_and_thanked_for(poll, as_other, other_user):
    response = as_other.post(page_of(poll, "report/"), {"reason": "misleading", "note": "  Wrong facts  "}, follow=True)

    assert shown_messages(response) == [("success", "Thank you: the moderators will look at this poll.")]
    report = Report.objects.get()
    assert (report.poll, report.reporter, report.reason, report.note, report.status) == (
        poll,
        other_user,
        "misleading",
        "Wrong facts",
        "open",
    )


def test_reporting_twice_is_refused(poll, as_other):
    as_other.post(page_of(poll, "report/"), {"reason": "spam"}, follow=True)

    response = as_other.post(page_of(poll, "report/"), {"reason": "abuse"}, follow=True)

    assert shown_messages(response) == [
        ("error", "You have already reported this poll; moderators will look at it.")
    ]
    assert Report.objects.count() == 1


@pytest.mark.parametrize("data", [{}, {"reason": "boring"}], ids=["missing", "unknown"])
def test_a_report_without_a_known_reason_is_refused(poll, as_other, data):
    response = as_other.post(page_of(poll, "report/"), data, follow=True)

    assert shown_messages(response) == [("error", "Choose a reason for the report.")]
    assert not Report.objects.exists()


def test_a_report_with_an_overlong_note_says_what_is_wrong(poll, as_other):
    response = as_other.post(page_of(poll, "report/"), {"reason": "spam", "note": "x" * 1001}, follow=True)

    assert not Report.objects.exists()
    [(level, message)] = shown_messages(response)
    assert level == "error" and message != "Choose a reason for the report."


def test_the_report_form_is_for_members(poll, as_other):
    assert "Log in</a> to report a poll." in text(Client().get(page_of(poll)))
    assert f'action="/p/{poll.slug}/report/"' in as_other.get(page_of(poll)).content.decode()


# --- closing, reopening and deleting ----------------------------------------------------------


@pytest.mark.parametrize("manager", ["owner", "staff_user"])
def test_the_author_and_staff_close_and_reopen_a_poll(poll, request, manager):
    browser = signed_in(request.getfixturevalue(manager))

    closed = browser.post(page_of(poll, "open/"), {"confirmed": "1"}, follow=True)

    assert shown_messages(closed) == [("success", "The poll is closed: voting has ended and its results are final.")]
    assert "Voting has ended." in text(closed)
    poll.refresh_from_db()
    assert not poll.is_active

    reopened = browser.post(page_of(poll, "open/"), {"open": "1"}, follow=True)

    assert shown_messages(reopened) == [("success", "The poll is open again.")]
    poll.refresh_from_db()
    assert poll.is_active


def test_another_user_cannot_close_a_poll(poll, as_other):
    response = as_other.post(page_of(poll, "open/"), follow=True)

    assert shown_messages(response) == [("error", "Only the poll's author or a moderator can do this.")]
    poll.refresh_from_db()
    assert poll.is_active


def test_another_user_cannot_reopen_a_poll(poll, as_other):
    close(poll)

    response = as_other.post(page_of(poll, "open/"), {"open": "1"}, follow=True)

    assert shown_messages(response) == [("error", "Only the poll's author or a moderator can do this.")]
    poll.refresh_from_db()
    assert not poll.is_active


@pytest.mark.parametrize(("action", "comes_back_to"), [("open/", ""), ("delete/", ""), ("edit/", "edit/")])
def test_managing_needs_an_account(poll, action, comes_back_to):
    response = Client().post(page_of(poll, action))

    assert response.status_code == 302
    assert response["Location"] == login_redirect(page_of(poll, comes_back_to))
    poll.refresh_from_db()
    assert poll.is_active and poll.title == "Favourite colour?"


@pytest.mark.parametrize("manager", ["owner", "staff_user"])
def test_the_author_and_staff_delete_a_poll(poll, request, manager):
    user = request.getfixturevalue(manager)
    services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Red"))

    response = signed_in(user).post(page_of(poll, "delete/"), {"confirmed": "1"}, follow=True)

    assert response.redirect_chain == [(f"/u/{user.username}/", 302)]
    assert shown_messages(response) == [("success", "The poll is deleted.")]
    assert not Poll.objects.filter(pk=poll.pk).exists() and not Ballot.objects.exists()
    assert Client().get(page_of(poll)).status_code == 404


def test_deleting_asks_for_confirmation_first_without_javascript(poll):
    browser = signed_in(poll.author)

    asked = browser.post(page_of(poll, "delete/"))

    assert asked.status_code == 200 and Poll.objects.filter(pk=poll.pk).exists()
    page = text(asked)
    assert "Delete this poll?" in page and "This cannot be undone." in page
    assert re.search(r'<form method="post" action="/p/%s/delete/" class="actions">' % poll.slug, page)
    assert '<input type="hidden" name="confirmed" value="1">' in page
    assert f'<a class="button secondary" href="/p/{poll.slug}/">Keep it</a>' in page


def test_the_delete_button_asks_with_javascript_too(poll):
    html = signed_in(poll.author).get(page_of(poll)).content.decode()

    assert re.search(r'action="/p/%s/delete/" class="inline" data-confirm="Delete this poll' % poll.slug, html)


@pytest.mark.parametrize("confirmed", [{}, {"confirmed": "1"}])
def test_another_user_cannot_delete_a_poll(poll, as_other, confirmed):
    """Nobody but a manager is asked: the refusal comes at once, confirmed or not."""
    response = as_other.post(page_of(poll, "delete/"), confirmed, follow=True)

    assert response.redirect_chain == [(page_of(poll), 302)]
    assert shown_messages(response) == [("error", "Only the poll's author or a moderator can do this.")]
    assert Poll.objects.filter(pk=poll.pk).exists()


# --- creating a poll --------------------------------------------------------------------------


def new_poll_data(**changes) -> dict:
    data = {
        "title": "Lunch today?",
        "description": "Pick one.",
        "options": ["Soup", "Salad", "Sandwich", ""],
        "max_choices": "",
        "expires_at": "",
        "is_public": "on",
        "allow_anonymous": "on",
        "results_visibility": "always",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def test_creating_needs_an_account(db):
    response = Client().get("/polls/new/")

    assert response.status_code == 302 and response["Location"] == login_redirect("/polls/new/")
    assert Client().post("/polls/new/", new_poll_data())["Location"] == login_redirect("/polls/new/")
    assert not Poll.objects.exists()


def test_the_new_poll_form_offers_four_option_inputs(as_owner):
    response = as_owner.get("/polls/new/")

    assert response.status_code == 200
    assert field_block(response, "options").count('<input type="text" name="options"') == 4
    assert "Create the poll" in text(response)


def test_a_new_poll_is_created_and_shown(as_owner, owner):
    response = as_owner.post("/polls/new/", new_poll_data(), follow=True)

    poll = Poll.objects.get()
    assert response.redirect_chain == [(page_of(poll, "share/"), 302)]
    assert (poll.author, poll.title, poll.description, poll.is_public, poll.allow_anonymous) == (
        owner,
        "Lunch today?",
        "Pick one.",
        True,
        True,
    )
    assert list(poll.options.values_list("text", "position")) == [("Soup", 0), ("Salad", 1), ("Sandwich", 2)]
    assert shown_messages(response) == [("success", "Your poll is live. Share the link!")]
    assert '<p class="share-poll-title">Lunch today?</p>' in text(response)


def test_a_new_multiple_choice_unlisted_poll_keeps_its_settings(as_owner):
    closes = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    data = new_poll_data(
        method="approval",
        max_choices="2",
        is_public=None,
        allow_anonymous=None,
        results_visibility="after_vote",
        expires_at=closes.strftime("%Y-%m-%dT%H:%M"),
    )

    as_owner.post("/polls/new/", data)

    poll = Poll.objects.get()
    assert (poll.allow_multiple, poll.max_choices, poll.is_public, poll.allow_anonymous) == (True, 2, False, False)
    assert (poll.results_visibility, poll.expires_at) == ("after_vote", closes)


PAST = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    "changes, field, error",
    [
        ({"options": ["Only one", "", ""]}, "options", "A poll has between 2 and 20 options."),
        (
            {"options": ["Soup", "soup ", "Salad"]},
            "options",
            "Options must be different from each other: “Soup” is given more than once.",
        ),
        ({"title": "   "}, "title", "This field is required."),
        (
            {"method": "approval", "max_choices": "4"},
            "max_choices",
            "Pick a number between 1 and the number of options (3).",
        ),
        ({"max_choices": "2"}, "max_choices", "Only approval, ranked and score polls can let voters choose several options."),
        ({"expires_at": PAST}, "expires_at", "The closing time must be in the future."),
        ({"expires_at": "next tuesday"}, "expires_at", "Enter a valid date/time."),
        (
            {"results_visibility": "never"},
            "results_visibility",
            "Select a valid choice. never is not one of the available choices.",
        ),
    ],
    ids=[
        "one-option",
        "duplicate-options",
        "blank-title",
        "max-over-options",
        "max-without-multiple",
        "past-expiry",
        "bad-expiry",
        "bad-visibility",
    ],
)
def test_a_bad_new_poll_is_shown_again_with_the_error_beside_its_field(as_owner, changes, field, error):
    data = new_poll_data(**changes)

    response = as_owner.post("/polls/new/", data)

    assert response.status_code == 400
    assert not Poll.objects.exists()
    assert field_errors(response, field) == [error]
    # What was typed is still there.
    options = field_block(response, "options")
    for option in data["options"]:
        if option.strip():
            assert f'value="{option}"' in options
    if data["title"].strip():
        assert f'value="{data["title"]}"' in field_block(response, "title")
    assert "Pick one.</textarea>" in field_block(response, "description")
    if "max_choices" in changes:
        assert f'value="{changes["max_choices"]}"' in field_block(response, "max_choices")
    if "expires_at" in changes:
        assert f'value="{changes["expires_at"]}"' in field_block(response, "expires_at")
    if "method" in changes:
        assert re.search(rf'value="{changes["method"]}"[^>]*checked', field_block(response, "method"))


def test_create_refuses_other_methods(as_owner):
    assert as_owner.put("/polls/new/").status_code == 405


# --- editing a poll ---------------------------------------------------------------------------


def edit_data(poll: Poll, **changes) -> dict:
    """The edit form as the browser sends it back, with `changes`."""
    data = {
        "title": poll.title,
        "description": poll.description,
        "options": [option.text for option in poll.options.all()],
        "max_choices": poll.max_choices or "",
        "expires_at": poll.expires_at.strftime("%Y-%m-%dT%H:%M") if poll.expires_at else "",
        "results_visibility": poll.results_visibility,
        "method": poll.method,
        **{name: "on" for name in ("is_public", "allow_anonymous") if getattr(poll, name)},
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def test_the_author_and_staff_open_the_edit_form_filled_in(poll, as_owner, as_staff):
    for browser in (as_owner, as_staff):
        response = browser.get(page_of(poll, "edit/"))
        assert response.status_code == 200
        assert 'value="Favourite colour?"' in field_block(response, "title")
        options = block_of(response, "options")
        # Options are the author's: moderators see them, fixed (polls.permissions.MODERATOR_EDITABLE_FIELDS).
        if browser is as_owner:
            assert re.findall(r'name="options" id="[^"]+" value="([^"]*)"', options) == ["Red", "Green", "Blue", ""]
        else:
            assert 'name="options"' not in options
            assert re.findall(r'<span class="option-text">(.*?)</span>', options) == ["Red", "Green", "Blue"]


def test_another_user_gets_the_friendly_403(poll, as_other):
    shown = as_other.get(page_of(poll, "edit/"))
    posted = as_other.post(page_of(poll, "edit/"), edit_data(poll, title="Mine now"))
    for response in (shown, posted):
        assert response.status_code == 403
        assert "Not allowed" in text(response) and "You do not have permission to see this page." in text(response)
    poll.refresh_from_db()
    assert poll.title == "Favourite colour?"


def test_editing_needs_an_account(poll):
    assert Client().get(page_of(poll, "edit/"))["Location"] == login_redirect(page_of(poll, "edit/"))


def test_the_author_changes_the_title_and_options(poll, as_owner):
    response = as_owner.post(
        page_of(poll, "edit/"), edit_data(poll, title="Favourite shade?", options=["Teal", "Red", "Mauve"]), follow=True
    )

    assert response.redirect_chain == [(page_of(poll), 302)]
    assert shown_messages(response) == [("success", "Changes saved.")]
    poll.refresh_from_db()
    assert poll.title == "Favourite shade?"
    assert list(poll.options.values_list("text", flat=True)) == ["Teal", "Red", "Mauve"]
    assert "<h1>Favourite shade?</h1>" in text(response)


def test_with_votes_the_options_are_locked(poll, as_owner):
    services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Green"))

    form = as_owner.get(page_of(poll, "edit/"))
    options = block_of(form, "options")
    assert re.findall(r'<span class="option-text">(.*?)</span>', options) == ["Red", "Green", "Blue"]
    assert "Has votes" in options and "<input" not in options

    changes = edit_data(poll, title="Colour, really?", options=["Black", "White"])
    response = as_owner.post(page_of(poll, "edit/"), changes)

    assert response.status_code == 302
    poll.refresh_from_db()
    assert poll.title == "Colour, really?"
    assert list(poll.options.values_list("text", "vote_count")) == [("Red", 0), ("Green", 1), ("Blue", 0)]
    assert vote_counts(poll) == (1, 1, 1)


def test_a_bad_edit_is_shown_again_with_the_error(poll, as_owner):
    response = as_owner.post(page_of(poll, "edit/"), edit_data(poll, title="", options=["Red", "red"]))

    assert response.status_code == 400
    assert field_errors(response, "title") == ["This field is required."]
    poll.refresh_from_db()
    assert poll.title == "Favourite colour?"
    assert list(poll.options.values_list("text", flat=True)) == ["Red", "Green", "Blue"]


def test_an_edit_with_clashing_options_is_refused(poll, as_owner):
    response = as_owner.post(page_of(poll, "edit/"), edit_data(poll, options=["Red", "red "]))

    assert response.status_code == 400
    assert field_errors(response, "options") == [
        "Options must be different from each other: “Red” is given more than once."
    ]
    assert re.findall(r'name="options" id="[^"]+" value="([^"]*)"', field_block(response, "options")) == [
        "Red",
        "red ",
        "",
        "",
    ]
    assert list(poll.options.values_list("text", flat=True)) == ["Red", "Green", "Blue"]


def rendered_expiry(response) -> str:
    return re.search(r'name="expires_at" value="([^"]*)"', field_block(response, "expires_at")).group(1)


def test_editing_an_expired_poll_keeps_its_expiry(poll, as_owner):
    ended = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5)
    Poll.objects.filter(pk=poll.pk).update(expires_at=ended)
    poll.refresh_from_db()
    form = as_owner.get(page_of(poll, "edit/"))

    response = as_owner.post(page_of(poll, "edit/"), edit_data(poll, title="Renamed", expires_at=rendered_expiry(form)))

    assert response.status_code == 302
    poll.refresh_from_db()
    assert (poll.title, poll.expires_at) == ("Renamed", ended)


@pytest.mark.parametrize("offset", [timedelta(minutes=-5), timedelta(hours=5)], ids=["expired", "open"])
def test_editing_keeps_an_expiry_that_has_seconds(poll, as_owner, offset):
    expiry = timezone.now().replace(second=56, microsecond=0) + offset
    Poll.objects.filter(pk=poll.pk).update(expires_at=expiry)
    poll.refresh_from_db()
    form = as_owner.get(page_of(poll, "edit/"))

    response = as_owner.post(page_of(poll, "edit/"), edit_data(poll, title="Renamed", expires_at=rendered_expiry(form)))

    assert response.status_code == 302
    poll.refresh_from_db()
    assert (poll.title, poll.expires_at) == ("Renamed", expiry)
