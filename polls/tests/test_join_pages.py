"""Join codes in the browser: the home page's "Enter code" box, /j/?code=… and /j/<code>."""

import pytest

from polls import decks, services
from polls.tests.factories import PollFactory

pytestmark = pytest.mark.django_db


def test_the_home_page_has_an_enter_code_box(client):
    html = client.get("/").content.decode()
    assert '<form class="join-form" method="get" action="/j/">' in html
    assert 'name="code"' in html
    assert 'autocapitalize="characters"' in html
    assert 'inputmode="text"' in html


@pytest.mark.parametrize("typed", ["{code}", "{lower}", " {lower} ", "{first}-{last}", "{first} {last}", "{first_lower} - {last}"])
def test_a_typed_code_goes_to_its_short_address_however_it_was_typed(client, poll, typed):
    code = poll.join_code
    raw = typed.format(code=code, lower=code.lower(), first=code[:3], last=code[3:], first_lower=code[:3].lower())
    response = client.get("/j/", {"code": raw})
    assert response.status_code == 302
    assert response["Location"] == f"/j/{code}"


def test_a_polls_code_opens_the_poll(client, poll):
    response = client.get(f"/j/{poll.join_code}")
    assert response.status_code == 302
    assert response["Location"] == f"/p/{poll.slug}/"


def test_the_short_address_takes_any_case_and_dashes(client, poll):
    code = poll.join_code
    assert client.get(f"/j/{code.lower()}")["Location"] == f"/p/{poll.slug}/"
    assert client.get(f"/j/{code[:3]}-{code[3:]}")["Location"] == f"/p/{poll.slug}/"


def test_an_unlisted_polls_code_opens_it_too(client, owner):
    unlisted = PollFactory(author=owner, is_public=False)
    assert client.get(f"/j/{unlisted.join_code}")["Location"] == f"/p/{unlisted.slug}/"


def test_a_decks_code_opens_the_poll_on_screen(client, owner):
    polls = [PollFactory(author=owner) for _ in range(2)]
    deck = decks.create_deck(author=owner, title="Lecture", poll_ids=[poll.pk for poll in polls])
    decks.move(deck=deck, actor=owner, position=1)
    assert client.get(f"/j/{deck.join_code}")["Location"] == f"/p/{polls[1].slug}/"


def test_an_unknown_code_is_a_friendly_404_with_the_box_again(client, poll):
    unknown = "ZZZ999" if poll.join_code != "ZZZ999" else "YYY999"
    response = client.get(f"/j/{unknown}")
    html = response.content.decode()
    assert response.status_code == 404
    assert "No poll has the code" in html
    assert 'name="code"' in html and 'action="/j/"' in html


def test_something_that_cannot_be_a_code_is_a_404_with_the_box(client):
    response = client.get("/j/", {"code": "<b>not a code at all</b>"})
    html = response.content.decode()
    assert response.status_code == 404
    assert "&lt;b&gt;not a code at all&lt;/b&gt;" in html
    assert 'name="code"' in html


def test_an_empty_box_shows_the_join_page(client):
    response = client.get("/j/", {"code": "  "})
    assert response.status_code == 200
    assert "Join a poll" in response.content.decode()
    assert client.get("/j/").status_code == 200


def test_a_held_poll_is_not_found_by_its_code(client, moderator, poll):
    services.hold_poll(poll=poll, moderator=moderator, reason="Spam")
    response = client.get(f"/j/{poll.join_code}")
    assert response.status_code == 404
    assert poll.title not in response.content.decode()


def test_join_pages_are_read_only(client, poll):
    assert client.post("/j/", {"code": poll.join_code}).status_code == 405
    assert client.post(f"/j/{poll.join_code}").status_code == 405


def test_codes_that_name_nothing_are_limited_per_address_on_the_page_too(client, poll, settings):
    settings.RATE_LIMIT_ENABLED = settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMIT_JOIN_MISSES = 2
    assert client.get(f"/j/{poll.join_code}").status_code == 302
    assert [client.get("/j/ZZZZZZ").status_code for _ in range(2)] == [404, 404]
    refused = client.get(f"/j/{poll.join_code}")
    assert refused.status_code == 429 and "Try again in" in refused.content.decode()
