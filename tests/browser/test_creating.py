"""A member creates a poll through the form, lands on its share panel and opens it."""

from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, UserFactory
from polls.models import Poll


def log_in(page, live_url, user):
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Username or email").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_a_logged_in_user_creates_a_poll_and_lands_on_it(live_url, new_page):
    user = UserFactory()
    page = new_page()
    log_in(page, live_url, user)

    page.get_by_role("link", name="Create a poll").first.click()
    page.get_by_label("Title").fill("Where should we eat?")
    page.get_by_label("Option 1", exact=True).fill("Pizza")
    page.get_by_label("Option 2", exact=True).fill("Ramen")
    page.get_by_label("Option 3", exact=True).fill("Tacos")
    page.get_by_role("button", name="Add an option").click()
    page.get_by_label("Option 5", exact=True).fill("Salad")
    page.get_by_role("button", name="Move up").last.click()  # Salad before the blank fourth row
    page.get_by_role("button", name="Remove option").last.click()  # and the blank row goes
    page.get_by_role("button", name="Create the poll").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Share your poll")
    page.get_by_role("link", name="Open the poll").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Where should we eat?")
    poll = Poll.objects.get(title="Where should we eat?")
    assert page.url.endswith(f"/p/{poll.slug}/")
    assert poll.author == user
    assert list(poll.options.values_list("text", flat=True)) == ["Pizza", "Ramen", "Tacos", "Salad"]


def test_form_errors_show_beside_the_fields_and_keep_the_input(live_url, new_page):
    page = new_page()
    log_in(page, live_url, UserFactory())
    page.goto(f"{live_url}/polls/new/")
    page.get_by_label("Title").fill("Only one option?")
    page.get_by_label("Option 1", exact=True).fill("Lonely")
    page.get_by_role("button", name="Create the poll").click()

    expect(page.locator('[data-field="options"] .field-errors')).to_contain_text("between 2 and 20")
    expect(page.get_by_label("Title")).to_have_value("Only one option?")
    expect(page.get_by_label("Option 1", exact=True)).to_have_value("Lonely")
    assert not Poll.objects.filter(title="Only one option?").exists()
