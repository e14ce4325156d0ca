"""A server that stops gracefully closes the page's socket with 1012 (Service Restart): the page reconnects at once,
after its own short random moment, and does not show itself offline meanwhile."""

import re
import time

from playwright.sync_api import expect

from polls.tests.factories import PollFactory

SERVICE_RESTART = 1012


def test_the_poll_page_reconnects_after_a_service_restart_without_showing_itself_offline(live_url, new_page):
    poll = PollFactory(title="Tea or coffee?", options=["Tea", "Coffee"])
    page = new_page()
    sockets = []  # (when the page opened it, the route between the page and the server)

    def through_the_server(route):
        sockets.append((time.monotonic(), route))
        route.connect_to_server()

    page.route_web_socket(re.compile(r"/ws/poll/"), through_the_server)
    page.goto(f"{live_url}/p/{poll.slug}/")
    status = page.locator("[data-live-status]")
    expect(status).to_be_visible()
    assert len(sockets) == 1

    closed_at = time.monotonic()
    sockets[0][1].close(code=SERVICE_RESTART, reason="Service Restart")  # what a stopping server sends the page

    deadline = closed_at + 3.5
    while len(sockets) < 2 and time.monotonic() < deadline:
        assert status.is_visible(), "the page showed itself offline"  # still live to the reader: on its way back
        page.wait_for_timeout(50)
    assert len(sockets) == 2, "the page did not reconnect within 3.5 s of a 1012"
    reconnected_after = sockets[1][0] - closed_at
    assert 0.2 <= reconnected_after <= 3.0  # its own random moment, not at once for everyone, not the backoff
    expect(status).to_be_visible()
