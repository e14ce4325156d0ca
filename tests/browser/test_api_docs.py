"""/docs and /redoc in a real browser: they render from our origin with no Content-Security-Policy violation, and work."""

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, UserFactory
from tests.browser.test_accessibility import serious_violations


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


def test_swagger_tries_an_operation_with_a_jwt_from_authorize(live_url, new_page):
    # /docs runs Swagger UI with QuickPoll's own plugins in place of the start-up script's list: authorizing,
    # "Try it out" and the deep link in the address bar must still work, and the dialog and the open operation
    # (parameters, code samples, the answer) meet the same accessibility bar as the page.
    user = UserFactory()
    page = new_page(viewport={"width": 1280, "height": 800})
    login = page.request.post(f"{live_url}/api/users/login", data={"username": user.username, "password": PASSWORD})
    access = login.json()["access"]
    page.goto(f"{live_url}/docs")

    page.get_by_role("button", name="Authorize").first.click()
    jwt = page.locator(".dialog-ux .auth-container").filter(has_text="jwtAuth")
    jwt.locator("input").fill(access)
    assert serious_violations(page) == []
    jwt.get_by_role("button", name="Authorize").click()
    jwt.get_by_role("button", name="Close").click()
    operation = page.locator("#operations-Accounts-users_me_retrieve")
    operation.get_by_role("button", name="GET /api/users/me My profile").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()

    answer = operation.locator(".live-responses-table tbody .response")
    expect(answer.locator(".response-col_status")).to_have_text("200")
    expect(answer.locator(".response-col_description")).to_contain_text(f'"username": "{user.username}"')
    assert page.evaluate("location.hash") == "#/Accounts/users_me_retrieve"
    polls = page.locator("#operations-Polls-polls_list")
    polls.get_by_role("button", name="GET /api/polls Public polls", exact=False).click()
    polls.get_by_role("button", name="Try it out").click()
    assert serious_violations(page) == []
