"""The site's frame in a real browser: the remembered colour theme, and long words that wrap."""

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from polls.tests.factories import PollFactory

PHONE = {"width": 390, "height": 844}


def page_background(page) -> str:
    return page.evaluate("getComputedStyle(document.documentElement).backgroundColor")


def test_the_theme_toggle_is_remembered_across_reloads(live_url, new_page):
    page = new_page(color_scheme="light")
    page.goto(f"{live_url}/")
    light = page_background(page)
    toggle = page.locator("[data-theme-toggle]")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_accessible_name("Theme: as the system (switch to dark)")

    toggle.click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    dark = page_background(page)
    assert dark != light

    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page_background(page) == dark
    expect(toggle).to_have_accessible_name("Theme: dark (switch to light)")

    page.goto(f"{live_url}/polls/")  # every page, not only the one where it was chosen
    assert page_background(page) == dark

    toggle.click()  # light, pinned
    toggle.click()  # back to the system's setting: nothing stored
    expect(page.locator("html")).not_to_have_attribute("data-theme", "dark")
    assert page.evaluate("localStorage.getItem('quickpoll-theme')") is None
    assert page_background(page) == light


def test_without_javascript_the_system_setting_applies_and_the_toggle_hides(live_url, new_page):
    lit = new_page(color_scheme="light", java_script_enabled=False)
    lit.goto(f"{live_url}/")
    dim = new_page(color_scheme="dark", java_script_enabled=False)
    dim.goto(f"{live_url}/")

    expect(dim.locator("[data-theme-toggle]")).to_be_hidden()
    assert page_background(dim) != page_background(lit)


@pytest.mark.parametrize("path", ["/", "/polls/", "PROFILE"])
def test_a_long_word_in_a_card_does_not_widen_a_phone_page(live_url, new_page, path):
    word = "Supercalifragilistic" * 10  # 200 characters, no space to break at
    author = UserFactory(display_name="Name" * 12)
    PollFactory(author=author, title=word, options=[word[:100], "Short"], description=word)
    if path == "PROFILE":
        path = f"/u/{author.username}/"

    page = new_page(viewport=PHONE)
    page.goto(f"{live_url}{path}")

    expect(page.get_by_role("link", name=word).first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
