"""The create and edit pages (options without JavaScript, errors on the right boxes, fixed options, the
closing time in the writer's zone), the share panel a new poll lands on, and how long a slug gets."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import timezone

from polls import services
from polls.models import MAX_OPTIONS, Poll
from polls.tests.factories import PollFactory, pick, visitor
from polls.tests.test_pages import new_poll_data
from quickpoll.tests.pages import block_of, field_block, field_errors, signed_in, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_owner(owner):
    return signed_in(owner)


def option_inputs(response) -> list[str]:
    return re.findall(r'name="options" id="[^"]+" value="([^"]*)"', field_block(response, "options"))


def marked_invalid(response) -> list[str]:
    inputs = re.findall(r"<input [^>]*>", field_block(response, "options"), re.S)
    return [re.search(r'value="([^"]*)"', tag).group(1) for tag in inputs if 'aria-invalid="true"' in tag]


# --- options without JavaScript ---------------------------------------------------------------


def test_add_an_option_without_javascript_keeps_what_was_typed_and_adds_a_row(as_owner):
    typed = new_poll_data(
        title="Team outing", description="Friday", options=["Bowling", "", "Karaoke", "Escape room"], add_option="1"
    )

    response = as_owner.post("/polls/new/", typed)

    assert response.status_code == 200
    assert not Poll.objects.exists()
    assert option_inputs(response) == ["Bowling", "", "Karaoke", "Escape room", ""]
    assert 'value="Team outing"' in field_block(response, "title")
    assert "Friday</textarea>" in field_block(response, "description")
    # Nothing was sent for saving: no errors yet, not even for the blank row.
    assert "field-errors" not in response.content.decode()


def test_add_an_option_works_on_the_edit_page_too(poll, as_owner):
    response = as_owner.post(
        f"/p/{poll.slug}/edit/", {"title": "Renamed", "options": ["Red", "Green", "Blue", "Pink"], "add_option": "1"}
    )

    assert response.status_code == 200
    assert option_inputs(response) == ["Red", "Green", "Blue", "Pink", ""]
    poll.refresh_from_db()
    assert poll.title == "Favourite colour?"


def test_add_an_option_stops_at_the_limit(as_owner):
    options = [f"Choice {number}" for number in range(1, MAX_OPTIONS + 1)]

    response = as_owner.post("/polls/new/", new_poll_data(options=options, add_option="1"))

    assert option_inputs(response) == options
    assert re.search(r"<button [^>]*data-add-option disabled", field_block(response, "options"))


def test_more_options_than_the_limit_are_all_shown_back_with_the_error(as_owner):
    options = [f"Choice {number}" for number in range(1, MAX_OPTIONS + 3)]

    response = as_owner.post("/polls/new/", new_poll_data(options=options))

    assert response.status_code == 400
    assert option_inputs(response) == options  # nothing typed is dropped
    assert field_errors(response, "options") == ["A poll has between 2 and 20 options."]


def test_the_new_form_offers_add_an_option_and_sends_with_enter_first(as_owner):
    page = as_owner.get("/polls/new/").content.decode()

    assert option_inputs(as_owner.get("/polls/new/")) == ["", "", "", ""]
    buttons = re.findall(r"<button [^>]*>[^<]*</button>", page[page.index('class="poll-form'):])
    # Enter in a text box clicks the form's first submit button: it must create, not add a row.
    assert "Create the poll" in buttons[0] and 'aria-hidden="true"' in buttons[0]
    assert any("Add an option" in button and 'name="add_option"' in button for button in buttons)


# --- errors on the boxes at fault ---------------------------------------------------------------


def test_only_the_repeated_options_are_marked_invalid(as_owner):
    response = as_owner.post("/polls/new/", new_poll_data(options=["Soup", "Salad", "soup ", "", "Tea", "salad"]))

    assert response.status_code == 400
    assert field_errors(response, "options") == [
        "Options must be different from each other: “Soup”, “Salad” are given more than once."
    ]
    assert marked_invalid(response) == ["Soup", "Salad", "soup ", "salad"]
    # The blank row and the good one are not outlined.
    assert option_inputs(response) == ["Soup", "Salad", "soup ", "", "Tea", "salad"]
    marked = re.findall(r'<input [^>]*class="invalid"[^>]*>', field_block(response, "options"))
    assert len(marked) == 4 and all('aria-describedby="id_options_error"' in tag for tag in marked)


def test_an_error_that_is_no_box_in_particular_marks_none(as_owner):
    response = as_owner.post("/polls/new/", new_poll_data(options=["Alone", "", "", ""]))

    assert field_errors(response, "options") == ["A poll has between 2 and 20 options."]
    assert marked_invalid(response) == []


# --- fixed options on the edit page ---------------------------------------------------------------


def test_options_of_a_poll_with_votes_show_as_text_marked_has_votes(poll, as_owner):
    services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Green"))

    options = block_of(as_owner.get(f"/p/{poll.slug}/edit/"), "options")

    assert re.findall(r'<li><span class="option-text">(.*?)</span></li>', options) == ["Red", "Green", "Blue"]
    assert "Has votes" in options
    # No box that looks editable, no empty rows, no button to add one.
    assert "<input" not in options and "Add an option" not in options


# --- the closing time, in the writer's zone ------------------------------------------------------


NEXT_WINTER = timezone.now().year + 1


def test_the_closing_time_is_read_in_the_zone_the_browser_sends(as_owner):
    response = as_owner.post(
        "/polls/new/", new_poll_data(expires_at=f"{NEXT_WINTER}-01-15T14:00", timezone="Europe/Paris")
    )

    assert response.status_code == 302
    assert Poll.objects.get().expires_at == datetime(NEXT_WINTER, 1, 15, 13, 0, tzinfo=UTC)


def test_without_javascript_the_closing_time_is_utc_and_the_form_says_so(as_owner):
    form = as_owner.get("/polls/new/")
    assert re.search(r'name="timezone" value="UTC" data-local-zone="unset"', form.content.decode())
    assert "In UTC." in field_block(form, "expires_at")

    as_owner.post("/polls/new/", new_poll_data(expires_at=f"{NEXT_WINTER}-01-15T14:00"))

    assert Poll.objects.get().expires_at == datetime(NEXT_WINTER, 1, 15, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../../etc/passwd", "x" * 500, "Europe/Paris\x00"])
def test_an_unknown_zone_is_a_clear_error_and_keeps_the_time(as_owner, zone):
    typed = f"{NEXT_WINTER}-01-15T14:00"

    response = as_owner.post("/polls/new/", new_poll_data(expires_at=typed, timezone=zone))

    assert response.status_code == 400
    assert not Poll.objects.exists()
    [error] = field_errors(response, "expires_at")
    assert error.startswith("Your browser sent a time zone QuickPoll does not know")
    assert f'value="{typed}"' in field_block(response, "expires_at")
    assert 'name="timezone" value="UTC"' in response.content.decode()


@pytest.mark.parametrize(
    "typed, error",
    [
        ("2030-03-31T02:30", "02:30 on 31 Mar 2030 does not exist in Europe/Paris: the clocks go forward then."),
        ("2030-10-27T02:30", "02:30 on 27 Oct 2030 happens twice in Europe/Paris: the clocks go back then."),
    ],
    ids=["skipped-hour", "repeated-hour"],
)
def test_a_time_the_clocks_skip_or_repeat_is_refused_plainly(as_owner, typed, error):
    response = as_owner.post("/polls/new/", new_poll_data(expires_at=typed, timezone="Europe/Paris"))

    assert response.status_code == 400
    [shown] = field_errors(response, "expires_at")
    assert shown.startswith(error)


def test_editing_shows_the_closing_time_in_utc_for_the_script_to_move_and_keeps_it(poll, as_owner):
    closes = datetime(NEXT_WINTER, 1, 15, 13, 0, tzinfo=UTC)
    Poll.objects.filter(pk=poll.pk).update(expires_at=closes)

    form = as_owner.get(f"/p/{poll.slug}/edit/")
    assert f'value="{NEXT_WINTER}-01-15T13:00"' in field_block(form, "expires_at")

    # The script moved it to the browser's zone and sends that zone along: nothing changes.
    sent = {
        "title": "Renamed",
        "options": ["Red", "Green", "Blue"],
        "results_visibility": "always",
        "expires_at": f"{NEXT_WINTER}-01-15T14:00",
        "timezone": "Europe/Paris",
    }
    assert as_owner.post(f"/p/{poll.slug}/edit/", sent).status_code == 302
    poll.refresh_from_db()
    assert (poll.title, poll.expires_at) == ("Renamed", closes)


def test_a_form_shown_again_keeps_the_zone_it_was_written_in(as_owner):
    response = as_owner.post(
        "/polls/new/", new_poll_data(title="", expires_at=f"{NEXT_WINTER}-01-15T14:00", timezone="Asia/Tokyo")
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert 'name="timezone" value="Asia/Tokyo" data-local-zone="Asia/Tokyo"' in page
    assert "In Asia/Tokyo." in field_block(response, "expires_at")
    assert f'value="{NEXT_WINTER}-01-15T14:00"' in field_block(response, "expires_at")


# --- the share panel ---------------------------------------------------------------------------


def test_a_new_poll_lands_on_its_share_panel(as_owner):
    response = as_owner.post("/polls/new/", new_poll_data(), follow=True)

    poll = Poll.objects.get()
    assert response.redirect_chain == [(f"/p/{poll.slug}/share/", 302)]
    page = text(response)
    assert "Share your poll" in page
    assert f'id="share-link" type="url" value="http://testserver/p/{poll.slug}/" readonly' in page
    assert f'id="share-short-link" type="url" value="http://testserver/p/{poll.pk}/" readonly' in page
    assert 'data-copy="#share-link" hidden>Copy link</button>' in page
    assert f'href="/p/{poll.slug}/">Open the poll</a>' in page
    assert 'href="/polls/new/">Create another</a>' in page
    assert f'data-select-on-focus><iframe src="http://testserver/embed/{poll.slug}"' in page  # the embed snippet


def test_the_share_panel_stays_at_a_stable_address_for_anyone_with_the_link(poll):
    by_slug = Client().get(f"/p/{poll.slug}/share/")
    by_id = Client().get(f"/p/{poll.pk}/share/")

    for response in (by_slug, by_id):
        assert response.status_code == 200
        assert "Share this poll" in text(response) and "Create another" not in text(response)
    assert Client().get("/p/no-such-poll/share/").status_code == 404
    assert Client().post(f"/p/{poll.slug}/share/").status_code == 405


def test_the_qr_code_scales_whole_with_an_even_white_quiet_zone(poll):
    page = Client().get(f"/p/{poll.slug}/share/").content.decode()

    svg = re.search(r'<div class="qr-tile">(<svg.*?</svg>)</div>', page, re.S).group(1)
    # A viewBox and no fixed size: CSS scales the code and its quiet zone together (a fixed 132px code in a
    # wider box left a wide white margin right and below only).
    assert "width=" not in svg[: svg.index(">")]
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    modules = size // 4
    # Light modules white across the whole square, the quiet zone included: it reads on a dark page.
    assert f'<path fill="#fff" d="M0 0h{modules}v{modules}h-{modules}z"/>' in svg
    # Dark modules start four modules in, as segno ends them four before the far edges.
    assert re.search(r'stroke="#000" d="M4 4\.5h', svg)


def test_dates_on_the_share_panel_are_words_not_timestamps(owner):
    poll = PollFactory(author=owner, expires_at=datetime(NEXT_WINTER, 12, 3, 14, 0, tzinfo=UTC))

    page = Client().get(f"/p/{poll.slug}/share/").content.decode()

    when = f"{datetime(NEXT_WINTER, 12, 3):%a} 3 Dec {NEXT_WINTER}, 14:00 UTC"
    assert f'closes <time datetime="{NEXT_WINTER}-12-03T14:00:00Z" data-when="date" title="{when}">{when}</time>' in page
    assert not re.search(r">[^<]*\d{4}-\d\d-\d\dT", page)


# --- slugs -------------------------------------------------------------------------------------


def test_a_slug_keeps_at_most_sixty_characters_of_the_title_cut_at_a_word(owner):
    title = ("Which of these wonderful weekend activities should the whole team choose " * 4)[:200]

    poll = PollFactory(author=owner, title=title)

    base, suffix = poll.slug.rsplit("-", 1)
    assert base == "which-of-these-wonderful-weekend-activities-should-the-whole"
    assert len(base) <= 60 and len(suffix) == 6
    assert Client().get(f"/p/{poll.slug}/").status_code == 200


def test_a_title_of_one_long_word_is_cut_at_sixty(owner):
    poll = PollFactory(author=owner, title="a" * 200)

    assert re.fullmatch(r"a{60}-[a-z2-9]{6}", poll.slug)


def test_a_long_slug_made_before_the_limit_still_opens(poll):
    old = "q" * 200 + "-abc234"
    Poll.objects.filter(pk=poll.pk).update(slug=old)

    assert Client().get(f"/p/{old}/").status_code == 200
    assert Client().get(f"/p/{old}/share/").status_code == 200
