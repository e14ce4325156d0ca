"""A poll embedded in another site: a page on another origin frames /embed/<slug>, and a visitor votes there
(no cookies cross into the frame: its voter is the id the frame keeps and sends as X-Anon-Id)."""

import http.server
import threading
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from polls.models import Ballot, Poll
from polls.tests.factories import PollFactory


@pytest.fixture
def other_site(live_url, tmp_path):
    """A second site (localhost, where QuickPoll is 127.0.0.1: another origin and another site) serving `pages`."""
    pages = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield pages, f"http://localhost:{server.server_address[1]}"
    server.shutdown()


def _host_page(live_url, poll, width=320):
    return f'<!doctype html><title>A blog</title><h1>Our blog</h1><iframe src="{live_url}/embed/{poll.slug}" title="Poll" width="{width}" height="640"></iframe>'


def test_a_poll_framed_by_another_site_takes_a_vote_and_shows_live_results(live_url, new_page, other_site):
    pages, site = other_site
    poll = PollFactory(title="Tea or coffee?", options=["Tea", "Coffee"], results_visibility=Poll.ResultsVisibility.AFTER_VOTE)
    pages["/post"] = _host_page(live_url, poll)
    assert urlsplit(site).hostname != urlsplit(live_url).hostname

    page = new_page()
    page.goto(f"{site}/post")
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("heading", name="Tea or coffee?")).to_be_visible()
    expect(frame.get_by_text("Results show once you have voted.")).to_be_visible()
    frame.get_by_text("Coffee", exact=True).click()
    frame.get_by_role("button", name="Vote").click()

    expect(frame.get_by_role("status").filter(has_text="Your vote is in.")).to_be_visible()
    expect(frame.get_by_role("button", name="Vote")).to_have_count(0)  # one ballot: the frame knows its voter now
    expect(frame.locator(".option-card", has_text="Coffee").locator(".option-percent")).to_have_text("100%")
    ballot = Ballot.objects.get(poll=poll)
    assert ballot.user is None and ballot.anon_id  # an anonymous voter, known without a cookie
    assert page.context.cookies(live_url) == []  # nothing was kept as a cookie for QuickPoll

    # Live: another voter's ballot moves the framed results (the frame's socket names its voter, so it may see them).
    other = new_page()
    other.goto(f"{live_url}/p/{poll.slug}/")
    other.locator(".option-card", has_text="Tea").click()
    other.get_by_role("button", name="Vote", exact=True).click()
    expect(other.get_by_text("Your vote is in.")).to_be_visible()
    expect(frame.locator(".option-card", has_text="Coffee").locator(".option-percent")).to_have_text("50%")

    assert Ballot.objects.filter(poll=poll).count() == 2


def test_a_site_not_on_the_polls_list_cannot_frame_it(live_url, new_page, other_site):
    pages, site = other_site
    poll = PollFactory(title="Only on our intranet", embed_origins=["https://intranet.example.org"])
    pages["/post"] = _host_page(live_url, poll)
    page = new_page()
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "frame-ancestors" in message.text else None)
    page.goto(f"{site}/post")
    page.wait_for_timeout(1500)
    assert page.frame_locator("iframe").get_by_role("heading", name="Only on our intranet").count() == 0
    assert blocked, "the browser did not refuse the frame for its frame-ancestors"
