"""axe-core finds no serious or critical accessibility violations on the main pages."""

from pathlib import Path

import pytest

from accounts.tests.factories import UserFactory
from polls.tests.factories import PollFactory
from tests.browser.test_creating import log_in

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()


def serious_violations(page) -> list[str]:
    # Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern:
    # pages are checked under their real policy.
    page.evaluate(f"() => {{ if (!window.axe) {{ {AXE} }} }}")
    report = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']}: {violation['help']} ({len(violation['nodes'])} element(s), first "
        f"{' '.join(map(str, violation['nodes'][0]['target']))})"
        for violation in report["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


@pytest.fixture
def member_page(live_url, new_page):
    user = UserFactory()
    page = new_page()
    log_in(page, live_url, user)
    PollFactory(author=user, title="Lunch?", options=["Soup", "Salad"], description="Answer by noon")
    return page


@pytest.mark.parametrize("path", ["/", "/polls/", "/polls/new/", "POLL"])
def test_no_serious_violations(live_url, member_page, path):
    if path == "POLL":
        from polls.models import Poll

        path = f"/p/{Poll.objects.get(title='Lunch?').slug}/"
    member_page.goto(f"{live_url}{path}")
    assert serious_violations(member_page) == []
