"""The Content-Security-Policy really stops injected inline script in a browser."""

import pytest
from playwright.sync_api import Error, expect

from accounts.tests.factories import UserFactory
from polls.tests.factories import PollFactory


def test_an_injected_inline_script_does_not_run(live_url, new_page):
    poll = PollFactory(author=UserFactory(), title="Is this page safe?", options=["Yes", "No"])
    page = new_page()
    page.goto(f"{live_url}/p/{poll.slug}/")

    with pytest.raises(Error, match="Content Security Policy"):
        page.add_script_tag(content="window.injected = true")
    assert page.evaluate("window.injected === undefined")
    # Our own script, from our origin, still runs: the live-results socket opened.
    expect(page.locator("[data-live-status]")).to_be_visible()
