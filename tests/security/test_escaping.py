"""User input as markup, formulas and SQL: escaped in every page, fragment, admin screen and live message that
renders it as HTML; carried as plain data in JSON; defused in CSV; taken literally by search."""

import csv
import io
import json
import re
from html import unescape

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.models import Notification, User
from accounts.notifications import mark_notifications_read
from accounts.tests.factories import UserFactory
from polls import services
from polls.models import Ballot, Poll, Report
from polls.tests.factories import PollFactory, pick
from polls.voters import Voter
from realtime import events
from tests.security.conftest import bearer_client

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", '=HYPERLINK("http://evil.example","x")']


def raw_markup(body: str) -> list[str]:
    """The pieces of either payload that would run if they reached a page unescaped (in text or in an attribute,
    where the quote would end the value and the <img> tag follow)."""
    return [piece for piece in ("<script>alert(1)", "<img src=x") if piece in body]


@pytest.fixture
def hostile(owner, other_user):
    """Markup everywhere people can type: titles, descriptions, options, names, bios, report notes, browsers."""
    User.objects.filter(pk=owner.pk).update(display_name=BREAKOUT, bio=SCRIPT)
    User.objects.filter(pk=other_user.pk).update(display_name=SCRIPT, bio=BREAKOUT)
    owner.refresh_from_db()
    other_user.refresh_from_db()
    scripted = PollFactory(author=owner, title=SCRIPT, description=BREAKOUT, options=[SCRIPT, BREAKOUT, *FORMULAS])
    broken_out = PollFactory(author=owner, title=BREAKOUT, description=SCRIPT, options=[BREAKOUT, SCRIPT])
    for poll in (scripted, broken_out):
        services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, SCRIPT))
        services.like_poll(poll=poll, voter=Voter(user=other_user))
        services.report_poll(poll=poll, reporter=other_user, reason="other", note=SCRIPT + BREAKOUT)
    stranger = Voter(anon_id="hostile-browser-0001", ip_address="203.0.113.9", user_agent=SCRIPT + BREAKOUT)
    services.cast_vote(poll=scripted, voter=stranger, option_ids=pick(scripted, BREAKOUT))
    services.cast_vote(poll=scripted, voter=Voter(user=owner), option_ids=pick(scripted, "=1+1"))
    return {"scripted": scripted, "broken_out": broken_out, "owner": owner, "other": other_user}


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def page_urls(hostile) -> list[tuple[str, object]]:
    """(url, who looks) for every page that shows what was typed."""
    owner, other = hostile["owner"], hostile["other"]
    urls = []
    for poll in (hostile["scripted"], hostile["broken_out"]):
        for viewer in (None, other, owner):  # the author also gets the chart, the edit links and the exports
            urls.append((f"/p/{poll.slug}/", viewer))
        urls.append((f"/p/{poll.slug}/edit/", owner))
    return urls + [
        ("/", None),
        ("/polls/", None),
        ("/polls/?q=alert", None),
        (f"/polls/?q={SCRIPT}", None),
        (f"/polls/?q={BREAKOUT}", None),
        (f"/u/{owner.username}/", None),
        (f"/u/{owner.username}/", owner),
        (f"/u/{other.username}/", other),
        ("/notifications/", owner),
        ("/accounts/settings/", owner),
    ]


def test_pages_escape_what_people_typed(hostile):
    found, shown = {}, {}
    for url, viewer in page_urls(hostile):
        response = browser(viewer).get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        found[url, str(viewer)] = raw_markup(body)
        shown[url, str(viewer)] = ESCAPED_SCRIPT in body

    assert {key: pieces for key, pieces in found.items() if pieces} == {}
    assert [key for key, seen in shown.items() if not seen] == []


def admin_urls(hostile) -> list[str]:
    scripted = hostile["scripted"]
    return [
        "/admin/polls/poll/",
        f"/admin/polls/poll/?q={SCRIPT}",
        f"/admin/polls/poll/{scripted.pk}/change/",
        "/admin/polls/option/",
        "/admin/polls/ballot/",
        "/admin/polls/vote/",
        "/admin/polls/like/",
        "/admin/polls/report/",
        f"/admin/polls/report/{Report.objects.filter(poll=scripted).get().pk}/change/",
        "/admin/accounts/notification/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{hostile['owner'].pk}/change/",
    ]


def test_the_admin_escapes_what_people_typed(hostile):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    admin = browser(superuser)

    found, shown = {}, {}
    for url in admin_urls(hostile):
        response = admin.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        found[url] = raw_markup(body)
        shown[url] = ESCAPED_SCRIPT in body

    assert {url: pieces for url, pieces in found.items() if pieces} == {}
    assert [url for url, seen in shown.items() if not seen] == []


# --- Exports: data, not pages -----------------------------------------------------------------------------


def test_the_csv_export_starts_no_cell_with_a_formula(hostile):
    response = bearer_client(hostile["owner"]).get(f"/api/polls/{hostile['scripted'].pk}/export?format=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    cells = [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
    assert [cell for cell in cells if cell[:1] in {"=", "+", "-", "@", "\t", "\r"}] == []
    # The formulas are there, defused with a leading quote, and the markup is kept as text.
    assert {f"'{formula}" for formula in FORMULAS} <= set(cells)
    assert SCRIPT in cells and BREAKOUT in cells


def test_the_json_export_is_served_as_json_and_carries_the_text_as_data(hostile):
    poll = hostile["scripted"]

    response = bearer_client(hostile["owner"]).get(f"/api/polls/{poll.pk}/export?format=json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    body = json.loads(response.content)
    assert body["poll"]["title"] == SCRIPT
    assert [option["text"] for option in body["results"]["options"]][:2] == [SCRIPT, BREAKOUT]


# --- Live messages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["scripted", "broken_out"])
def test_the_html_of_a_results_snapshot_is_escaped(hostile, which):
    message = events.results_message(hostile[which].pk)

    assert raw_markup(message["html"]) == []
    assert ESCAPED_SCRIPT in message["html"]
    # The rest of the snapshot is data: option texts as typed, for the client to set as text.
    assert {SCRIPT, BREAKOUT} <= {option["text"] for option in message["options"]}


def test_a_notification_carries_title_and_name_as_plain_text_and_its_page_escapes_them(
    hostile, third_user, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(events, "publish_to_user", lambda user_id, message: sent.append((user_id, message)))
    # Not under test here, and its snapshot would run the ORM through database_sync_to_async from this thread.
    monkeypatch.setattr(events, "publish_results_changed", lambda poll: None)
    User.objects.filter(pk=third_user.pk).update(display_name=SCRIPT)
    third_user.refresh_from_db()
    # Read, so this like starts a notice of its own that names its liker (unread ones group likes).
    mark_notifications_read(recipient=hostile["owner"])

    with django_capture_on_commit_callbacks(execute=True):
        services.like_poll(poll=hostile["broken_out"], voter=Voter(user=third_user))

    [(recipient, message)] = [(user_id, message) for user_id, message in sent if message["type"] == "notification"]
    assert recipient == hostile["owner"].pk
    # JSON for a script to read: the very words typed, neither escaped (they would show as &lt;) nor rendered.
    assert message["notification"]["message"] == f"{SCRIPT} (@{third_user.username}) liked “{BREAKOUT}”."
    assert message["notification"]["payload"]["poll_title"] == BREAKOUT
    assert Notification.objects.filter(recipient=hostile["owner"], kind="like", actor=third_user).exists()
    # Where the message becomes HTML, it is escaped.
    page = browser(hostile["owner"]).get("/notifications/").content.decode()
    assert raw_markup(page) == []
    assert f"{ESCAPED_SCRIPT} (@{third_user.username}) liked" in page


def test_the_browser_script_writes_socket_text_as_text_and_only_the_servers_html_as_html():
    script = (settings.BASE_DIR / "static" / "js" / "quickpoll.js").read_text()

    sinks = re.findall(r"^.*(?:innerHTML|outerHTML|insertAdjacentHTML|document\.write|\.html\().*$", script, re.M)

    # The one HTML sink parses the results fragment the server rendered with autoescaping (checked above)
    # into an inert <template>, whose parts move into the option cards; titles, names, notification
    # messages and a hidden-results reason go through textContent.
    assert [line.strip().split(";")[0] for line in sinks] == ["fresh.innerHTML = html"]
    assert "fill(message.html)" in script and "note.textContent = reason" in script
    assert "link.textContent = message.poll.title" in script
    assert "announce(message.notification.message)" in script and "announcer.textContent = text" in script


# --- Search takes its words literally ---------------------------------------------------------------------


@pytest.fixture
def searchable(owner):
    titles = {
        "pizza": "Pineapple on pizza?",
        "percent": "Are you 100% sure about tabs?",
        "underscore": "snake_case or camelCase?",
        "injection": "Is ' OR 1=1 -- a real attack?",
    }
    for title in titles.values():
        PollFactory(author=owner, title=title, description="Be honest.", options=["Yes", "No"])
    return titles


SEARCHES = [
    ("%", ["percent"]),
    ("_", ["underscore"]),
    ("' OR 1=1 --", ["injection"]),
    ("%%", []),
    ("%_%", []),
    ("\\", []),
    ("'; DROP TABLE polls_poll; --", []),
    ('" OR ""="', []),
    ("*", []),
]


CARD_TITLE = re.compile(r'<article class="card">\s*<h3><a href="[^"]*">(.*?)</a>')


def card_titles(response) -> list[str]:
    return [unescape(title) for title in CARD_TITLE.findall(response.content.decode())]


@pytest.mark.parametrize(("query", "expected"), SEARCHES, ids=[query for query, _ in SEARCHES])
def test_search_matches_special_characters_literally(searchable, query, expected):
    assert connection.vendor in {"sqlite", "postgresql"}
    wanted = sorted(searchable[key] for key in expected)

    api = bearer_client().get("/api/polls/search", {"q": query})
    page = browser().get("/polls/", {"q": query})

    assert api.status_code == 200, api.content
    assert sorted(poll["title"] for poll in api.json()["results"]) == wanted
    assert page.status_code == 200
    assert sorted(card_titles(page)) == wanted
    # Nothing was dropped along the way.
    assert Poll.objects.count() == 4 and Ballot.objects.count() == 0
