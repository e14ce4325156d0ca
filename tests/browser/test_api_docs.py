"""/docs and /redoc in a real browser: they render from our origin with no Content-Security-Policy violation."""

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_render_without_a_csp_violation_or_a_foreign_request(live_url, new_page, path):
    page = new_page(viewport={"width": 1280, "height": 800})
    console, foreign = [], []
    page.on("console", lambda message: console.append(message.text))
    page.on("request", lambda request: foreign.append(request.url) if not request.url.startswith((live_url, "data:", "blob:")) else None)

    page.goto(f"{live_url}{path}")

    # Once the viewer has read the schema, its headings are the resources.
    for heading in ("Polls", "Votes", "Notifications", "Moderation"):
        expect(page.get_by_text(heading, exact=True).first).to_be_visible(timeout=30_000)
    page.wait_for_load_state("networkidle")
    assert [text for text in console if "Content Security Policy" in text] == []
    assert foreign == []
