"""The deck pages without JavaScript: my decks and the create form, the editor (title, which polls and their
order by position numbers, delete), who may use them, and the audience page of a deck's code."""

import re

import pytest
from django.test import Client

from polls import decks
from polls.models import Deck
from polls.tests.factories import PollFactory
from quickpoll.tests.pages import login_redirect, shown_messages, signed_in, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_polls(owner):
    return [PollFactory(author=owner, title=title) for title in ("Warm-up", "The big question", "Last words")]


@pytest.fixture
def deck(owner, three_polls):
    return decks.create_deck(author=owner, title="Friday talk", poll_ids=[poll.pk for poll in three_polls])


def in_deck(deck: Deck) -> list[str]:
    return [item.poll.title for item in deck.items.select_related("poll").order_by("position")]


def picked_rows(response) -> list[tuple[str, str]]:
    """(poll title, position) of each ticked row of the picker, top first."""
    rows = re.findall(r'<li class="deck-pick">(.*?)</li>', text(response), re.S)
    title, position = r'deck-pick-title">([^<]*)<', r'name="position-[^"]+" id="[^"]+" value="(\d*)"'
    return [(re.search(title, row).group(1), re.search(position, row).group(1)) for row in rows if " checked>" in row]


def order_data(title: str, polls_in_order: list, **extra) -> dict:
    data = {"title": title, "polls": [str(poll.pk) for poll in polls_in_order]}
    data |= {f"position-{poll.pk}": str(place) for place, poll in enumerate(polls_in_order, start=1)}
    return data | extra


# --- my decks ------------------------------------------------------------------------------------


def test_the_deck_pages_need_an_account(deck):
    assert Client().get("/decks/")["Location"] == login_redirect("/decks/")
    assert Client().get(f"/decks/{deck.pk}/")["Location"] == login_redirect(f"/decks/{deck.pk}/")
    assert Client().post(f"/decks/{deck.pk}/delete/", {"confirmed": "1"}).status_code == 302
    assert Deck.objects.filter(pk=deck.pk).exists()


def test_my_decks_lists_mine_with_their_code_poll_count_and_links(deck, other_user):
    PollFactory(author=other_user)
    theirs = decks.create_deck(author=other_user, title="Their deck", poll_ids=[other_user.polls.get().pk])

    page = text(signed_in(deck.author).get("/decks/"))

    assert "Friday talk" in page and "Their deck" not in page
    code = deck.join_code
    assert f'href="/j/{code}"' in page and f"{code[:3]} {code[3:]}" in page
    assert "3 polls" in page
    assert f'href="/decks/{deck.pk}/"' in page and f'href="/decks/{deck.pk}/present/"' in page
    assert f"/decks/{theirs.pk}/" not in page


def test_the_profile_links_my_decks(owner):
    assert 'href="/decks/"' in text(signed_in(owner).get(f"/u/{owner.username}/"))
    assert 'href="/decks/"' not in text(Client().get(f"/u/{owner.username}/"))


def test_creating_a_deck_takes_the_polls_in_the_order_numbered(owner, three_polls):
    warm_up, big, last = three_polls
    data = order_data("Monday lecture", [last, warm_up])

    response = signed_in(owner).post("/decks/", data)

    assert response.status_code == 302 and response["Location"] == "/decks/"
    deck = Deck.objects.get()
    assert (deck.title, deck.author) == ("Monday lecture", owner)
    assert in_deck(deck) == ["Last words", "Warm-up"]


def test_the_create_form_offers_only_my_polls(owner, three_polls, other_user):
    PollFactory(author=other_user, title="Not mine")

    page = text(signed_in(owner).get("/decks/"))

    assert all(poll.title in page for poll in three_polls)
    assert "Not mine" not in page


def test_someone_elses_poll_is_refused_and_the_form_comes_back(owner, three_polls, other_user):
    theirs = PollFactory(author=other_user, title="Not mine")

    response = signed_in(owner).post("/decks/", order_data("Sneaky", [three_polls[0], theirs]))

    assert response.status_code == 400
    picker = re.search(r'<fieldset class="deck-picker is-invalid".*?</fieldset>', text(response), re.S).group(0)
    assert "A deck holds polls you manage" in picker  # beside the polls, not at the top of the page
    assert 'value="Sneaky"' in text(response)
    assert ("Warm-up", "1") in picked_rows(response)  # what was ticked stays ticked
    assert not Deck.objects.exists()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"title": ""}, "This field is required."),
        ({"polls": []}, "A deck holds between 1 and 30 polls."),
        ({"position-{first}": "first"}, "is no position"),
        ({"polls": ["not-a-poll"]}, "Choose polls from the list."),
    ],
)
def test_bad_input_comes_back_with_its_error(owner, three_polls, changes, reason):
    data = order_data("Talk", three_polls[:2])
    for name, value in changes.items():
        data[name.format(first=three_polls[0].pk)] = value

    response = signed_in(owner).post("/decks/", data)

    assert response.status_code == 400
    assert reason in text(response)
    assert not Deck.objects.exists()


# --- the editor ----------------------------------------------------------------------------------


def test_the_editor_shows_the_decks_polls_ticked_and_numbered(deck):
    response = signed_in(deck.author).get(f"/decks/{deck.pk}/")

    assert response.status_code == 200
    assert picked_rows(response) == [("Warm-up", "1"), ("The big question", "2"), ("Last words", "3")]
    assert 'value="Friday talk"' in text(response)


def test_numbers_reorder_the_deck_and_unticked_polls_leave_it(deck, three_polls):
    warm_up, big, last = three_polls
    data = order_data("Friday talk, revised", [big, warm_up, last])
    data["polls"] = [str(warm_up.pk), str(big.pk)]  # "Last words" unticked, its number ignored
    data[f"position-{big.pk}"] = "1"
    data[f"position-{warm_up.pk}"] = "5"

    response = signed_in(deck.author).post(f"/decks/{deck.pk}/", data)

    assert response.status_code == 302
    deck.refresh_from_db()
    assert deck.title == "Friday talk, revised"
    assert in_deck(deck) == ["The big question", "Warm-up"]


def test_a_ticked_poll_without_a_number_goes_last(deck, three_polls):
    warm_up, big, last = three_polls
    data = order_data("Friday talk", [big, last])
    data["polls"].append(str(warm_up.pk))

    signed_in(deck.author).post(f"/decks/{deck.pk}/", data)

    assert in_deck(deck) == ["The big question", "Last words", "Warm-up"]


def test_someone_else_cannot_see_change_or_delete_my_deck(deck, other_user):
    stranger = signed_in(other_user)

    assert stranger.get(f"/decks/{deck.pk}/").status_code == 404
    assert stranger.post(f"/decks/{deck.pk}/", {"title": "Mine now", "polls": []}).status_code == 404
    assert stranger.post(f"/decks/{deck.pk}/delete/", {"confirmed": "1"}).status_code == 404
    deck.refresh_from_db()
    assert deck.title == "Friday talk" and len(in_deck(deck)) == 3


def test_a_moderator_may_edit_a_deck(deck, moderator):
    assert signed_in(moderator).get(f"/decks/{deck.pk}/").status_code == 200


def test_deleting_asks_first_without_javascript_then_deletes(deck, three_polls):
    author = signed_in(deck.author)

    asked = author.post(f"/decks/{deck.pk}/delete/")

    assert asked.status_code == 200 and "Delete this deck?" in text(asked)
    assert Deck.objects.filter(pk=deck.pk).exists()
    done = author.post(f"/decks/{deck.pk}/delete/", {"confirmed": "1"}, follow=True)
    assert ("success", "The deck is deleted.") in shown_messages(done)
    assert not Deck.objects.exists()
    assert all(poll.__class__.objects.filter(pk=poll.pk).exists() for poll in three_polls)  # its polls stay


def test_the_deck_pages_refuse_other_methods(deck):
    author = signed_in(deck.author)
    assert author.get(f"/decks/{deck.pk}/delete/").status_code == 405
    assert author.put("/decks/").status_code == 405


# --- the audience page ---------------------------------------------------------------------------


def test_the_audience_page_shows_the_decks_current_poll_to_vote_on(deck, three_polls):
    page = text(Client().get(f"/j/{deck.join_code}"))

    assert "Friday talk" in page and "Poll 1 of 3" in page
    assert "<h1>Warm-up</h1>" in page
    assert f'action="/p/{three_polls[0].slug}/vote/"' in page
    assert f'data-deck-id="{deck.pk}"' in page and f'data-poll-id="{three_polls[0].pk}"' in page
    # Without the page script nothing follows the presenter: the page says how to catch up.
    assert f'<a href="/j/{deck.join_code}">reload for the current poll</a>' in page
    # A vote posted from here comes back here, not to the poll's own page.
    assert f'<input type="hidden" name="back" value="/j/{deck.join_code}">' in page


def test_the_audience_page_shows_where_the_presenter_is(deck, three_polls):
    decks.move(deck=deck, actor=deck.author, position=2)

    page = text(Client().get(f"/j/{deck.join_code}"))

    assert "<h1>Last words</h1>" in page and "Poll 3 of 3" in page


def test_a_vote_from_the_audience_page_comes_back_to_it(deck, three_polls):
    warm_up = three_polls[0]
    option = warm_up.options.first()
    browser = Client()

    response = browser.post(f"/p/{warm_up.slug}/vote/", {"option": option.pk, "back": f"/j/{deck.join_code}"})

    assert response.status_code == 302 and response["Location"] == f"/j/{deck.join_code}"
    assert ("success", "Your vote is in.") in shown_messages(browser.get(response["Location"]))


def test_a_back_address_elsewhere_is_ignored(poll):
    option = poll.options.first()

    for elsewhere in ("https://evil.example/j/x", "//evil.example/j/", "/accounts/logout/"):
        response = Client().post(f"/p/{poll.slug}/vote/", {"option": option.pk, "back": elsewhere})
        assert response["Location"] == f"/p/{poll.slug}/"


def test_without_polls_of_my_own_the_page_sends_me_to_create_one(other_user):
    page = text(signed_in(other_user).get("/decks/"))

    assert "No polls for a deck yet" in page and 'href="/polls/new/"' in page
    assert "Create the deck" not in page
