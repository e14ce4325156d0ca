"""The home page and the error pages: HTML for people, JSON under /api/ and for JSON clients."""

import json
import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client, RequestFactory
from django.utils import timezone

from polls import services
from polls.models import Like
from polls.tests.factories import PollFactory, pick, visitor
from quickpoll import views
from quickpoll.tests.pages import text

pytestmark = pytest.mark.django_db


def section(response, key: str) -> list[str]:
    """Titles of the poll cards in one home page section (trending, popular, recent), in order."""
    html = response.content.decode()
    body = html.split(f'<section class="poll-list" aria-labelledby="{key}-heading">')[1].split("</section>")[0]
    return re.findall(r'<h3><a href="[^"]*">(.*?)</a></h3>', body)


@pytest.fixture
def polls(owner):
    """Quiet (no votes), busy (3 votes, today), liked (1 like, long ago) and an unlisted one with many votes."""
    quiet = PollFactory(author=owner, title="Quiet question")
    busy = PollFactory(author=owner, title="Busy question")
    liked = PollFactory(author=owner, title="Liked question")
    unlisted = PollFactory(author=owner, title="Unlisted question", is_public=False)
    for number in (1, 2, 3):
        services.cast_vote(poll=busy, voter=visitor(number), option_ids=pick(busy, "Red"))
    for number in (1, 2, 3, 4, 5):
        services.cast_vote(poll=unlisted, voter=visitor(number), option_ids=pick(unlisted, "Red"))
        services.like_poll(poll=unlisted, voter=visitor(number))
    services.like_poll(poll=liked, voter=visitor(1))
    Like.objects.filter(poll=liked).update(created_at=timezone.now() - timedelta(days=5))
    return quiet, busy, liked, unlisted


# --- home ------------------------------------------------------------------------------------------


def test_home_shows_trending_popular_and_recent_polls(polls):
    response = Client().get("/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    for key, title in [("trending", "Trending"), ("popular", "Popular"), ("recent", "Recent")]:
        assert f'<h2 id="{key}-heading">{title}</h2>' in text(response)
    assert section(response, "trending") == ["Busy question"]  # the only public poll with activity lately
    assert section(response, "popular") == ["Busy question", "Liked question", "Quiet question"]
    assert section(response, "recent") == ["Liked question", "Busy question", "Quiet question"]


def test_home_never_shows_an_unlisted_poll(polls):
    response = Client().get("/")

    assert "Unlisted question" not in text(response)
    assert '<dd data-stat="total_polls">3</dd>' in text(response)
    assert '<dd data-stat="total_votes">3</dd>' in text(response)
    assert '<dd data-stat="today.votes">3</dd>' in text(response)


def test_home_lists_at_most_six_polls_a_section(owner):
    for letter in "ABCDEFG":
        PollFactory(author=owner, title=f"Question {letter}")

    assert section(Client().get("/"), "recent") == [f"Question {letter}" for letter in "GFEDCB"]


def test_an_empty_home_invites_the_first_poll(db):
    response = Client().get("/")

    assert response.status_code == 200
    page = text(response)
    assert page.count("No polls yet") == 1  # one invitation, not one per empty section
    assert 'href="/polls/new/">Create the first poll</a>' in page


def test_home_answers_json_clients_with_json(db):
    response = Client().get("/", headers={"Accept": "application/json"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["name"] == "QuickPoll" and body["version"]
    assert body["links"] == {
        "health": "http://testserver/health",
        "info": "http://testserver/api/info",
        "admin": "http://testserver/admin/",
    }


@pytest.mark.parametrize("accept", ["text/html,application/xhtml+xml,*/*;q=0.8", "*/*", ""])
def test_home_answers_browsers_and_anything_else_with_html(db, accept):
    response = Client().get("/", headers={"Accept": accept} if accept else {})

    assert response["Content-Type"] == "text/html; charset=utf-8"


def test_home_tells_caches_that_it_varies_by_accept(db):
    for accept in ("application/json", "text/html"):
        response = Client().get("/", headers={"Accept": accept})
        assert "accept" in response.get("Vary", "").lower()


def test_home_is_read_only(db):
    assert Client().post("/").status_code == 405


# --- error pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/no-such-page/", "/p/", "/u/", "/polls/nothing/"])
def test_an_unknown_page_is_a_friendly_404(db, path):
    response = Client().get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = text(response)
    assert '<h1 id="error-title">Not found</h1>' in page
    assert "There is nothing here. The link may be old, or the poll deleted." in page
    assert '<a class="button secondary" href="/">Back to the polls</a>' in page


def test_the_404_offers_a_search_of_the_polls_and_the_home_page(db):
    page = text(Client().get("/no-such-page/"))

    assert '<form class="error-page-search" method="get" action="/polls/" role="search">' in page
    assert '<label for="error-search">Looking for a poll?</label>' in page
    assert '<input type="search" id="error-search" name="q"' in page
    assert 'href="/">Back to the polls</a>' in page


@pytest.mark.parametrize("path", ["/no-such-page/", "/p/no-such-poll/"], ids=["no-url", "view-raises-404"])
def test_in_development_a_missing_page_is_still_the_branded_404(db, settings, path):
    settings.DEBUG = True

    response = Client().get(path)

    assert response.status_code == 404
    assert "<h1 id=\"error-title\">Not found</h1>" in text(response) and "Looking for a poll?" in text(response)
    assert "URLconf" not in text(response) and "technical_404" not in text(response)


def test_in_development_an_api_404_is_still_json(db, settings):
    settings.DEBUG = True

    response = Client().get("/api/nothing-here")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_in_development_an_uncaught_exception_is_the_branded_500_and_logged(db, settings, monkeypatch, caplog):
    settings.DEBUG = True

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("polls.selectors.recent_polls", explode)

    response = Client(raise_request_exception=False).get("/polls/")

    assert response.status_code == 500
    assert "<h1 id=\"error-title\">Something went wrong</h1>" in text(response) and "Traceback" not in text(response)
    assert any(record.exc_info and record.exc_info[0] is RuntimeError for record in caplog.records)


def test_debug_error_pages_shows_djangos_technical_pages_on_purpose(db, settings, monkeypatch):
    settings.DEBUG, settings.DEBUG_ERROR_PAGES = True, True

    response = Client().get("/no-such-page/")

    assert response.status_code == 404 and "URLconf" in text(response)
    assert "error-title" not in text(response)


@pytest.mark.parametrize("path", ["/api/nothing-here", "/api/polls/x/y/z/"])
def test_an_unknown_api_path_is_a_json_404(db, path):
    response = Client().get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "not_found",
        "detail": "There is nothing here. The link may be old, or the poll deleted.",
    }


def test_a_server_error_gets_the_friendly_page(db):
    request = RequestFactory().get("/p/some-poll/")

    response = views.server_error(request)

    assert response.status_code == 500
    page = response.content.decode()
    assert '<h1 id="error-title">Something went wrong</h1>' in page
    assert "We could not finish that. Please try again in a moment." in page
    assert "Back to the polls" in page


def test_a_server_error_under_the_api_is_json(db):
    response = views.server_error(RequestFactory().post("/api/votes"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "code": "server_error",
        "detail": "We could not finish that. Please try again in a moment.",
    }


@pytest.mark.parametrize(
    "handler, exception, status, code, title",
    [
        (views.bad_request, Exception("bad"), 400, "invalid", "Bad request"),
        (views.permission_denied, PermissionDenied(), 403, "forbidden", "Not allowed"),
        (views.page_not_found, Http404(), 404, "not_found", "Not found"),
    ],
)
def test_every_error_handler_answers_html_or_json(db, handler, exception, status, code, title):
    html = handler(RequestFactory().get("/somewhere/"), exception)
    api = handler(RequestFactory().get("/api/somewhere"), exception)

    assert html.status_code == api.status_code == status
    assert f'<h1 id="error-title">{title}</h1>' in html.content.decode()
    assert api["Content-Type"] == "application/json" and json.loads(api.content)["code"] == code


def test_an_uncaught_exception_in_a_page_is_the_friendly_500(db, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("polls.selectors.recent_polls", explode)

    response = Client(raise_request_exception=False).get("/polls/")

    assert response.status_code == 500
    assert '<h1 id="error-title">Something went wrong</h1>' in text(response)
