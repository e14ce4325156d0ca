"""Every page QuickPoll shows, at desktop and phone size, in light and dark: screenshots and the quality bar.

One realistic data set and one server for the module; each page is loaded once per viewport and colour
scheme, saved as a full-page screenshot in one folder (SCREENSHOT_DIR, default var/screenshots/:
`<page>-<desktop|phone>-<light|dark>.png`), and must:
- put nothing past the viewport's edges, and on a phone not scroll sideways;
- show where the keyboard focus is on the first elements Tab reaches;
- have no serious or critical axe-core violations, in light and in dark (at desktop size: a phone gets
  the same markup and colours);
- weigh under the page budget (PAGE_BUDGET_BYTES, see page_weight()).
Every failed check of a page is reported together, so one run shows all that is wrong with it.
"""

import gzip
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.urls import get_resolver, resolve
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from accounts import two_factor
from accounts.services import MODERATORS_GROUP, make_moderator, update_profile
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tokens import Purpose, make_token
from polls import answers, decks, invites, services
from polls.models import Poll
from polls.tests.factories import PollFactory, pick
from polls.voters import Voter
from tests.browser.test_accessibility import serious_violations
from webhooks.models import Endpoint

SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR") or Path(settings.BASE_DIR) / "var" / "screenshots")

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SCHEMES = ("light", "dark")

# The page budget, in one place: the document plus the CSS, JS and fonts it loads, as they travel: the
# document as the view writes it, each static file as WhiteNoise serves it (gzip-compressed where that is
# smaller; fonts are compressed already). The API documentation pages are third-party viewers (Swagger UI,
# ReDoc, ~1 MB each) for developers, outside the budget of the pages voters use.
PAGE_BUDGET_BYTES = 100 * 1024
BUDGETED_TYPES = {"document", "stylesheet", "script", "font"}
OUTSIDE_BUDGET = {"docs", "redoc"}

FOCUS_STEPS = 4  # Tab presses checked from the top of each page

# Screenshots are capped so a page blown up by a long word (24,000 px wide) still saves in seconds.
SCREENSHOT_MAX_WIDTH_FACTOR = 3
SCREENSHOT_MAX_HEIGHT = 16_000

TWO_FACTOR_SECRET = pyotp.random_base32()  # the moderator's authenticator app

LONG_WORD = ("Pneumonoultramicroscopicsilicovolcanoconiosis" * 5)[:200]

# QuickPoll's people in the data set: "visitor" has no account.
AUTHOR, VOTER, NEWCOMER, OTHER_AUTHOR, MODERATOR, VISITOR = "ada", "ben", "cleo", "dan", "mo", "visitor"


@dataclass(frozen=True)
class PageVisit:
    """A page as someone reaches it: who, where ({names} are filled from the data set), and what they do there."""

    name: str
    actor: str
    path: str
    submit: str = ""  # a button to press after filling `fill` (field name: value), for pages that answer a form
    fill: dict = field(default_factory=dict)
    ready: str = ""  # a selector that shows the page has finished drawing itself (for script-drawn pages)
    status: int = 200


PAGES = [
    PageVisit("home", VISITOR, "/"),
    PageVisit("browse", VISITOR, "/polls/"),
    PageVisit("browse-search", VISITOR, "/polls/?q=team"),
    PageVisit("browse-no-results", VISITOR, "/polls/?q=aardvark+juggling"),
    PageVisit("poll-visitor", VISITOR, "/p/{open}/"),
    PageVisit("poll-before-voting", NEWCOMER, "/p/{open}/"),
    PageVisit("poll-after-voting", VOTER, "/p/{open}/"),
    PageVisit("poll-author", AUTHOR, "/p/{open}/"),
    PageVisit("poll-change-vote", VOTER, "/p/{open}/?change=1"),
    PageVisit("share", AUTHOR, "/p/{open}/share/"),
    PageVisit("poll-moderator", MODERATOR, "/p/{open}/"),
    PageVisit("poll-multiple-choice", NEWCOMER, "/p/{multiple}/"),
    PageVisit("poll-ranked", NEWCOMER, "/p/{ranked}/"),
    PageVisit("poll-ranked-voted", VOTER, "/p/{ranked}/"),
    PageVisit("poll-score", VOTER, "/p/{score}/"),
    PageVisit("poll-closed", VISITOR, "/p/{closed}/"),
    PageVisit("poll-hidden-results", VOTER, "/p/{hidden}/"),
    PageVisit("poll-secret", NEWCOMER, "/p/{secret}/"),
    PageVisit("poll-secret-voted", VOTER, "/p/{secret}/"),
    PageVisit("poll-invite-only", VISITOR, "/p/{invite_only}/"),
    PageVisit("poll-invite-link", VISITOR, "/i/{invite_token}"),
    PageVisit("poll-long-words", VISITOR, "/p/{long_words}/"),
    PageVisit("poll-long-words-author", AUTHOR, "/p/{long_words}/"),
    PageVisit("poll-bot-defence", VISITOR, "/p/{bot_defence}/"),
    PageVisit("poll-write-ins", VISITOR, "/p/{write_ins}/"),
    PageVisit("poll-write-ins-waiting", VOTER, "/p/{write_ins}/"),
    PageVisit("poll-write-ins-author", AUTHOR, "/p/{write_ins}/"),
    PageVisit("write-ins", AUTHOR, "/p/{write_ins}/write-ins/"),
    PageVisit("invite-missing", VISITOR, "/i/not-a-real-invite", status=404),
    PageVisit("create", AUTHOR, "/polls/new/"),
    PageVisit("create-errors", AUTHOR, "/polls/new/", submit="Create the poll", fill={"title": "Only a title?"}, status=400),
    PageVisit("edit", AUTHOR, "/p/{open}/edit/"),
    PageVisit("invites", AUTHOR, "/p/{invite_only}/invites/"),
    PageVisit("invites-sheet", AUTHOR, "/p/{invite_only}/invites/print/"),
    PageVisit("receipt", VOTER, "/p/{secret}/receipt/?code={receipt}"),
    PageVisit("receipt-unknown", VISITOR, "/p/{secret}/receipt/?code=ZZZZ-ZZZZ", status=404),
    PageVisit("login", VISITOR, "/accounts/login/"),
    PageVisit("login-errors", VISITOR, "/accounts/login/", submit="Log in", fill={"username": "ada", "password": "wrong"}, status=400),
    PageVisit("register", VISITOR, "/accounts/register/"),
    PageVisit("settings", AUTHOR, "/accounts/settings/"),
    PageVisit("two-factor-setup", AUTHOR, "/accounts/settings/two-factor/"),
    PageVisit("two-factor-manage", MODERATOR, "/accounts/settings/two-factor/"),
    PageVisit(
        "two-factor-new-codes", MODERATOR, "/accounts/settings/two-factor/",
        submit="Make new recovery codes", fill={"codes-password": PASSWORD},
    ),
    PageVisit("login-code", VISITOR, "/accounts/login/", submit="Log in", fill={"username": MODERATOR, "password": PASSWORD}),
    PageVisit("password-reset", VISITOR, "/accounts/password-reset/"),
    PageVisit(
        "password-reset-sent", VISITOR, "/accounts/password-reset/", submit="Mail me a link", fill={"email": "someone@example.com"}
    ),
    PageVisit("password-reset-confirm", VISITOR, "/accounts/password-reset/{reset_token}/"),
    PageVisit("password-reset-link-refused", VISITOR, "/accounts/password-reset/not-a-token/", status=400),
    PageVisit("confirm-email", NEWCOMER, "/accounts/confirm-email/{confirm_token}/"),
    PageVisit("unsubscribe", VISITOR, "/accounts/unsubscribe/{unsubscribe_token}/"),
    PageVisit("profile-own", AUTHOR, "/u/ada/"),
    PageVisit("profile", VISITOR, "/u/ada/"),
    PageVisit("notifications", AUTHOR, "/notifications/"),
    PageVisit("notifications-empty", NEWCOMER, "/notifications/"),
    PageVisit("present", AUTHOR, "/p/{open}/present/"),
    PageVisit("present-deck", AUTHOR, "/decks/{deck}/present/"),
    PageVisit("join", VISITOR, "/j/"),
    PageVisit("join-missing", VISITOR, "/j/ZZZ999", status=404),
    PageVisit("not-found", VISITOR, "/p/no-such-poll/", status=404),
    PageVisit("forbidden", AUTHOR, "/p/{others}/edit/", status=403),
    PageVisit("poll-open-text", VISITOR, "/p/{open_text}/"),
    PageVisit("poll-open-text-answered", VOTER, "/p/{open_text}/"),
    PageVisit("webhook-new", AUTHOR, "/accounts/settings/webhooks/new/"),
    PageVisit("webhook-endpoint", AUTHOR, "/accounts/settings/webhooks/{webhook}/"),
    PageVisit("embed", VISITOR, "/embed/{open}"),
    PageVisit("embed-ranked", VISITOR, "/embed/{ranked}"),
    PageVisit("embed-score", VISITOR, "/embed/{score}"),
    PageVisit("embed-open-text", VISITOR, "/embed/{open_text}"),
    PageVisit("embed-hidden-results", VISITOR, "/embed/{hidden}"),
    PageVisit("embed-long-words", VISITOR, "/embed/{long_words}"),
    PageVisit("embed-bot-defence", VISITOR, "/embed/{bot_defence}"),
    PageVisit("poll-open-text-author", AUTHOR, "/p/{open_text}/"),
    PageVisit("decks", AUTHOR, "/decks/"),
    PageVisit("decks-none", NEWCOMER, "/decks/"),
    PageVisit("deck-edit", AUTHOR, "/decks/{deck}/"),
    PageVisit("deck-audience", VISITOR, "/j/{deck_code}"),
    PageVisit("docs", VISITOR, "/docs", ready=".swagger-ui .opblock"),
    PageVisit("redoc", VISITOR, "/redoc", ready="[role=navigation], .api-content"),
]

MODES = [(viewport, scheme) for viewport in VIEWPORTS for scheme in SCHEMES]

# Routes that answer without a page of their own: form posts that redirect, downloads, JSON, the admin.
NOT_PAGES = {
    "health", "api-info", "schema", "logout", "export-my-data", "poll-vote", "poll-retract", "poll-like",
    "poll-report", "poll-set-open", "poll-delete", "poll-invites-revoke", "poll-invites-csv",
    "poll-change-vote", "notification-open", "poll-suggest", "poll-write-in-decide",
    "deck-delete", "poll-answer", "poll-answers-hide", "poll-answer-take-back",
    "login-code",  # reached by logging in with two-factor on: the "login-code" visit
    "resend-confirmation", "cancel-email-change", "email-preferences",
    "api-key-revoke", "choose-language", "poll-embed-vote", "webhook-switch", "webhook-test", "webhook-rotate-secret",
    "webhook-delete", "webhook-redeliver",
    "javascript-catalog", "poll-preview", "poll-qr",  # a script, a PNG, an SVG: each tested where it is made
}


def _routed_names(patterns, prefix: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(("admin/", "api/", "^api/")):
            continue
        if hasattr(pattern, "url_patterns"):
            names |= _routed_names(pattern.url_patterns, route)
        elif pattern.name:
            names.add(pattern.name)
    return names


def test_every_routed_page_is_visited(db):
    # `db` also makes pytest-django set up the test database, which the page tests (outside any test
    # transaction, so the server sees their data) cannot ask for: run this test with them.
    # Any value fits a slug or a token; a deck's id must look like one.
    stand_in = defaultdict(lambda: "00000000-0000-4000-8000-000000000000")
    visited = {resolve(visit.path.format_map(stand_in).split("?")[0]).url_name for visit in PAGES}
    assert _routed_names(get_resolver().url_patterns) - NOT_PAGES - visited == set()


def _cast_data_set() -> dict:
    """An author with every kind of poll, its voters, likes and notifications, another author, a moderator."""
    author = UserFactory(username=AUTHOR)
    update_profile(user=author, display_name="Ada Lovelace", bio="Runs the team's Friday polls.")
    voter, newcomer, other_author = (UserFactory(username=name) for name in (VOTER, NEWCOMER, OTHER_AUTHOR))
    # The transactional tests before this module flushed the group its migration made (the admin's
    # permissions, which no page here needs); moderating a poll needs only the group and staff status.
    Group.objects.get_or_create(name=MODERATORS_GROUP)
    moderator = make_moderator(user=UserFactory(username=MODERATOR))
    two_factor.enable_two_factor(user=moderator, secret=TWO_FACTOR_SECRET, code=pyotp.TOTP(TWO_FACTOR_SECRET).now())
    # The two-factor pages take the password: hashed as the tests check it (conftest: MD5 only), which this
    # module-wide data set, made before that fixture applies, would not do by itself.
    moderator.password = MD5PasswordHasher().encode(PASSWORD, MD5PasswordHasher().salt())
    moderator.save(update_fields=["password"])
    crowd = [UserFactory() for _ in range(6)]

    def ballots(poll, choices):
        for person, options in zip([voter, *crowd], choices, strict=False):
            services.cast_vote(poll=poll, voter=Voter(user=person), option_ids=pick(poll, *options))

    open_poll = PollFactory(
        author=author,
        title="Where should the team offsite be this spring?",
        description="We have two days in April. Pick the place you would travel to; the venue is booked on Friday.",
        options=["Lisbon", "Edinburgh", "Kraków", "A cabin in the Black Forest"],
        expires_at=timezone.now() + timedelta(days=2),
    )
    ballots(open_poll, [["Lisbon"], ["Lisbon"], ["Edinburgh"], ["Kraków"], ["Lisbon"], ["A cabin in the Black Forest"]])
    for person in (voter, *crowd[:4]):
        services.like_poll(poll=open_poll, voter=Voter(user=person))

    multiple = PollFactory(
        author=author,
        title="Which evenings suit the team dinner?",
        options=["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
        allow_multiple=True,
        max_choices=2,
    )
    ballots(multiple, [["Tuesday", "Thursday"], ["Thursday"], ["Monday", "Thursday"]])

    ranked = PollFactory(
        author=author,
        title="Which language for the new payments service?",
        options=["Python", "Rust", "Go", "TypeScript", "Kotlin"],
        method=Poll.Method.RANKED,
    )
    ballots(ranked, [["Go", "Rust"], ["Python", "Go"], ["Rust", "Go"], ["Python"], ["Kotlin", "Rust"], ["TypeScript", "Go"]])

    score = PollFactory(
        author=author, title="Rate the offsite venues", options=["Lakeside lodge", "City loft", "Vineyard barn"], method=Poll.Method.SCORE
    )
    venues = pick(score, "Lakeside lodge", "City loft", "Vineyard barn")
    for person, stars in zip([voter, *crowd], [(4, 2, 5), (3, 1, 5), (5, 2, 4), (4, 0, 3)], strict=False):
        services.cast_vote(poll=score, voter=Voter(user=person), scores=dict(zip(venues, stars, strict=True)))

    closed = PollFactory(author=author, title="Best sandwich in the canteen?", options=["Club", "BLT", "Falafel wrap"])
    ballots(closed, [["Club"], ["Falafel wrap"], ["Falafel wrap"]])
    services.set_poll_active(poll=closed, actor=author, active=False)

    hidden = PollFactory(
        author=author,
        title="Who should chair the next retro?",
        options=["Ben", "Cleo", "Dan"],
        results_visibility=Poll.ResultsVisibility.AFTER_CLOSE,
    )
    ballots(hidden, [["Cleo"], ["Dan"]])

    secret = PollFactory(author=author, title="Should we move the stand-up to 10:00?", options=["Yes", "No"], is_secret=True)
    receipt = services.cast_vote(poll=secret, voter=Voter(user=voter), option_ids=pick(secret, "Yes")).receipt
    services.cast_vote(poll=secret, voter=Voter(user=crowd[0]), option_ids=pick(secret, "No"))

    invite_only = PollFactory(
        author=author, title="Board game for the members' night?", options=["Catan", "Azul", "Codenames"], invite_only=True
    )
    made = invites.create_invites(poll=invite_only, actor=author, count=4, label="Members' night")

    long_words = PollFactory(
        author=author,
        title=LONG_WORD,
        description=f"A word nobody can break by hand: {LONG_WORD} and then some ordinary words after it.",
        options=[LONG_WORD[:100], "Short"],
    )
    ballots(long_words, [[LONG_WORD[:100]], ["Short"]])

    bot_defence = PollFactory(
        author=author, title="Tea or coffee at the stand-up?", options=["Tea", "Coffee"], bot_protection=Poll.BotProtection.ALWAYS
    )
    write_ins = PollFactory(
        author=author, title="What should the lunch menu add?", options=["Ramen", "Tacos"], allow_write_ins=True
    )
    services.suggest_option(poll=write_ins, voter=Voter(user=voter), text="Falafel wrap with grilled halloumi")
    services.suggest_option(poll=write_ins, voter=Voter(anon_id="lunch-visitor-0001"), text=LONG_WORD[:100])
    turned_down = services.suggest_option(poll=write_ins, voter=Voter(user=crowd[0]), text="Nothing, the menu is fine")
    services.reject_write_in(write_in=turned_down, actor=author)

    open_text = PollFactory(
        author=author, title="One word for the offsite?", options=[], method=Poll.Method.TEXT, answers_per_voter=2
    )
    spoken = ["Sunny", "sunny!", "Relaxing", "Too far", "Delicious", LONG_WORD[:60], "Sunny", "Great food"]
    for person, words in zip([voter, *crowd], spoken, strict=False):
        answers.submit_answer(poll=open_text, voter=Voter(user=person), text=words)
    answers.submit_answer(poll=open_text, voter=Voter(user=crowd[0]), text="Rainy")
    answers.hide(poll=open_text, actor=author, key="rainy")

    others = PollFactory(author=other_author, title="Tabs or spaces?", options=["Tabs", "Spaces"])
    services.like_poll(poll=others, voter=Voter(user=author))

    deck = decks.create_deck(author=author, title="Friday all-hands", poll_ids=[open_poll.pk, score.pk, ranked.pk])
    decks.move(deck=deck, actor=author, position=1)

    polls = {
        "open": open_poll,
        "multiple": multiple,
        "ranked": ranked,
        "score": score,
        "closed": closed,
        "hidden": hidden,
        "secret": secret,
        "invite_only": invite_only,
        "long_words": long_words,
        "bot_defence": bot_defence,
        "write_ins": write_ins,
        "open_text": open_text,
        "others": others,
    }
    sessions = {}
    for person in (author, voter, newcomer, other_author, moderator):
        client = Client()
        client.force_login(person)
        sessions[person.username] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {
        "sessions": sessions,
        "refs": {name: poll.slug for name, poll in polls.items()}
        | {"receipt": receipt, "invite_token": made[0].token, "deck": str(deck.pk), "deck_code": deck.join_code}
        | {
            "reset_token": make_token(newcomer, Purpose.PASSWORD_RESET),
            "confirm_token": make_token(newcomer, Purpose.CONFIRM_EMAIL),
            "unsubscribe_token": make_token(author, Purpose.UNSUBSCRIBE, kind="weekly_digest"),
            # Made directly: creating one through the services would resolve its host, and this machine may have no DNS.
            "webhook": str(Endpoint.objects.create(owner=author, url="https://hooks.example.com/quickpoll", events=["poll.closed"]).pk),
        },
    }


@pytest.fixture(scope="module")
def data_set(django_db_setup, django_db_blocker):
    """Committed once for the module, for the live server to see; flushed afterwards like a transactional test."""
    # Playwright's event loop may already run in this thread (see conftest's _orm_beside_playwright).
    with pytest.MonkeyPatch.context() as patch, django_db_blocker.unblock():
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        if "accounts_user" not in connection.introspection.table_names():
            pytest.fail("no test database: select test_every_routed_page_is_visited too (-k 'routed or ...')")
        with override_settings(BOT_DEFENCE_ADDRESS_THRESHOLD=1_000_000, BOT_DEFENCE_POLL_THRESHOLD=1_000_000):
            cast = _cast_data_set()
        yield cast
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def contexts(browser, server_url, data_set):
    """One browser context per person, viewport and scheme, reused by every page they visit."""
    opened = {}

    def context_for(actor: str, viewport: str, scheme: str):
        key = (actor, viewport, scheme)
        if key not in opened:
            context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme=scheme)
            context.set_default_timeout(15_000)
            if actor != VISITOR:
                cookie = {"name": settings.SESSION_COOKIE_NAME, "value": data_set["sessions"][actor], "url": server_url}
                context.add_cookies([cookie])
            opened[key] = context
        return opened[key]

    yield context_for
    for context in opened.values():
        context.close()


def _url(server_url: str, visit: PageVisit, refs: dict) -> str:
    return server_url + visit.path.format(**refs)


OFF_EDGE_SCRIPT = """
() => {
  const width = window.innerWidth;
  const clips = (el) => ['hidden', 'auto', 'scroll', 'clip'].includes(getComputedStyle(el).overflowX);
  const offenders = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1) continue;  // visually hidden, or nothing to see
    if (box.right <= 0 || box.bottom <= 0) continue;  // parked off-screen on purpose (a skip link)
    if (getComputedStyle(el).visibility === 'hidden') continue;
    if (box.left >= -0.5 && box.right <= width + 0.5) continue;
    let parent = el.parentElement, clipped = false;
    // Inside a scrolling or clipping box (a wide table in its scroller): that box is judged instead.
    while (parent && parent !== document.body && !clipped) { clipped = clips(parent); parent = parent.parentElement; }
    if (!clipped) offenders.push(el);
  }
  const deepest = offenders.filter((el) => !offenders.some((other) => other !== el && el.contains(other)));
  const describe = (el) => {
    const box = el.getBoundingClientRect();
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.classList.length ? '.' + [...el.classList].join('.') : '');
    const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    return `${name} "${text}" spans ${Math.round(box.left)}..${Math.round(box.right)} px`;
  };
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    count: offenders.length,
    examples: deepest.slice(0, 4).map(describe),
  };
}
"""

FOCUS_SCRIPT = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {element: null, visible: false};
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== 'none';
  const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    ' "' + (el.textContent || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 30) + '"';
  return {element: name, visible: outline || shadow};
}
"""


def page_weight(page, responses) -> tuple[int, str]:
    """The page's weight under the budget's rule (see PAGE_BUDGET_BYTES), and how it was counted."""
    bodies = {}
    for response in responses:
        # blob: and data: scripts are made in the page, not downloaded; a file fetched twice costs once.
        if not response.url.startswith("http") or response.url in bodies or 300 <= response.status < 400:
            continue
        if response.request.resource_type in BUDGETED_TYPES:
            try:
                bodies[response.url] = response.body()
            except PlaywrightError:  # fetched by a worker (the widget's hashing), whose bodies Playwright cannot read
                bodies[response.url] = page.request.get(response.url).body()
    return sum(_travelling_size(url, body) for url, body in bodies.items()), "as served, static files compressed"


def _travelling_size(url: str, body: bytes) -> int:
    if urlsplit(url).path.startswith(settings.STATIC_URL):
        return min(len(body), len(gzip.compress(body)))
    return len(body)


def _screenshot(page, path: Path, overflow: dict) -> None:
    size = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    width = min(size[0], overflow["innerWidth"] * SCREENSHOT_MAX_WIDTH_FACTOR)
    height = min(size[1], SCREENSHOT_MAX_HEIGHT)
    page.screenshot(path=path, full_page=True, animations="disabled", clip={"x": 0, "y": 0, "width": width, "height": height})


@pytest.mark.parametrize(
    ("visit", "viewport", "scheme"),
    [(visit, viewport, scheme) for visit in PAGES for viewport, scheme in MODES],
    ids=[f"{visit.name}-{viewport}-{scheme}" for visit in PAGES for viewport, scheme in MODES],
)
def test_page_meets_the_quality_bar(visit, viewport, scheme, contexts, server_url, data_set):
    page = contexts(visit.actor, viewport, scheme).new_page()
    # Every load fetches everything again, so the page weight counts what a first visit costs.
    page.context.new_cdp_session(page).send("Network.setCacheDisabled", {"cacheDisabled": True})
    responses = []
    page.on("response", lambda response: responses.append(response))
    try:
        answer = page.goto(_url(server_url, visit, data_set["refs"]))
        if visit.submit:
            for name, value in visit.fill.items():
                page.locator(f'[name="{name}"]').fill(value)
            responses.clear()
            with page.expect_navigation() as navigation:
                page.get_by_role("button", name=visit.submit, exact=True).click()
            answer = navigation.value
        assert answer.status == visit.status, f"{visit.name} answered {answer.status}, not {visit.status}"
        if visit.ready:
            page.locator(visit.ready).first.wait_for(timeout=60_000)  # ReDoc takes long to draw a large schema
        page.evaluate("() => document.fonts.ready.then(() => true)")
        problems = _problems(page, visit, viewport, scheme, responses)
    finally:
        page.close()
    if problems:
        pytest.fail(f"{visit.name} at {viewport} in {scheme}:\n  " + "\n  ".join(problems), pytrace=False)


def _problems(page, visit: PageVisit, viewport: str, scheme: str, responses) -> list[str]:
    problems = []
    overflow = page.evaluate(OFF_EDGE_SCRIPT)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    _screenshot(page, SCREENSHOT_DIR / f"{visit.name}-{viewport}-{scheme}.png", overflow)

    if viewport == "phone" and overflow["scrollWidth"] > overflow["innerWidth"]:
        problems.append(f"scrolls sideways: {overflow['scrollWidth']} px wide in a {overflow['innerWidth']} px viewport")
    if overflow["count"]:
        problems.append(
            f"{overflow['count']} element(s) past the viewport's edge, e.g. " + "; ".join(overflow["examples"])
        )

    if viewport == "desktop":  # the same markup and colours as on a phone: once per scheme is enough
        problems += [f"axe: {violation}" for violation in serious_violations(page)]

    if visit.name not in OUTSIDE_BUDGET:
        weight, counted = page_weight(page, responses)
        if weight > PAGE_BUDGET_BYTES:
            problems.append(f"weighs {weight / 1024:.1f} KB ({counted}), over the {PAGE_BUDGET_BYTES // 1024} KB budget")

    for step in range(1, FOCUS_STEPS + 1):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_SCRIPT)
        if focus["element"] is None:
            break  # fewer focusable elements than steps
        if not focus["visible"]:
            problems.append(f"focus not visible on Tab {step}: {focus['element']} has no outline or box-shadow")
    return problems
