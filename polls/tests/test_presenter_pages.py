"""The presenter screens, without JavaScript: /p/<slug>/present/ and /decks/<id>/present/, their buttons and who may use them."""

from html import unescape

import pytest
from django.urls import reverse

from polls import decks, services
from polls.models import Deck, Poll
from polls.tests.factories import PollFactory, pick, visitor

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")


def screen(poll) -> str:
    return f"/p/{poll.slug}/present/"


def deck_screen(deck) -> str:
    return f"/decks/{deck.pk}/present/"


def state_of(poll) -> tuple:
    poll.refresh_from_db()
    return poll.is_presenting, poll.audience_results, poll.is_active


@pytest.fixture
def author(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def stranger(client, other_user):
    client.force_login(other_user)
    return client


# --- Who may present ---------------------------------------------------------------------------------


def test_the_author_sees_the_screen_with_the_join_code_address_and_qr_code(author, poll):
    response = author.get(screen(poll))
    html = unescape(response.content.decode())
    assert response.status_code == 200
    code = poll.join_code
    assert f"{code[:3]} {code[3:]}" in html
    assert f"testserver/j/{code}" in html
    assert "QR code of the join address" in html
    assert "Start presenting" in html
    assert "Favourite colour?" in html


def test_a_moderator_may_present_someone_elses_poll(client, moderator, poll):
    client.force_login(moderator)
    assert client.get(screen(poll)).status_code == 200
    assert client.post(screen(poll), {"action": "reveal"}).status_code == 302
    assert state_of(poll)[:2] == (True, Poll.AudienceResults.SHOWN)


def test_another_account_finds_no_screen_and_changes_nothing(stranger, poll):
    assert stranger.get(screen(poll)).status_code == 404
    assert stranger.post(screen(poll), {"action": "reveal"}).status_code == 404
    assert stranger.post(screen(poll), {"action": "close"}).status_code == 404
    assert state_of(poll) == (False, Poll.AudienceResults.RULE, True)


def test_a_visitor_is_asked_to_log_in(client, poll):
    for response in (client.get(screen(poll)), client.post(screen(poll), {"action": "reveal"})):
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN}?next=")
    assert state_of(poll) == (False, Poll.AudienceResults.RULE, True)


def test_an_unknown_poll_has_no_screen(author):
    assert author.get("/p/no-such-poll/present/").status_code == 404


def test_other_methods_are_refused(author, poll):
    assert author.put(screen(poll)).status_code == 405
    assert author.delete(screen(poll)).status_code == 405


# --- What each button does ---------------------------------------------------------------------------


def test_opening_the_screen_writes_nothing(author, poll):
    version = Poll.objects.get(pk=poll.pk).results_version
    author.get(screen(poll))
    author.get(screen(poll))
    poll.refresh_from_db()
    assert (poll.presenting_since, poll.audience_results, poll.results_version) == (None, "rule", version)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("start", (True, Poll.AudienceResults.RULE, True)),
        ("reveal", (True, Poll.AudienceResults.SHOWN, True)),
        ("hide", (True, Poll.AudienceResults.HIDDEN, True)),
        ("close", (False, Poll.AudienceResults.RULE, False)),
    ],
)
def test_each_button_changes_the_poll_and_comes_back_to_the_screen(author, poll, action, expected):
    response = author.post(screen(poll), {"action": action})
    assert response.status_code == 302
    assert response["Location"] == screen(poll)
    assert state_of(poll) == expected


def test_follow_rule_keeps_presenting_with_the_polls_own_rule(author, poll):
    author.post(screen(poll), {"action": "hide"})
    author.post(screen(poll), {"action": "follow-rule"})
    assert state_of(poll) == (True, Poll.AudienceResults.RULE, True)


def test_ending_puts_the_rule_back(author, poll):
    author.post(screen(poll), {"action": "hide"})
    author.post(screen(poll), {"action": "end"})
    assert state_of(poll) == (False, Poll.AudienceResults.RULE, True)


def test_voting_closes_and_opens_again(author, poll):
    author.post(screen(poll), {"action": "close"})
    assert not state_of(poll)[2]
    author.post(screen(poll), {"action": "open"})
    assert state_of(poll)[2]


def test_an_unknown_action_is_refused_on_the_screen(author, poll):
    response = author.post(screen(poll), {"action": "explode"})
    assert response.status_code == 400
    assert "not one of the presenter's buttons" in unescape(response.content.decode())
    assert state_of(poll) == (False, Poll.AudienceResults.RULE, True)


def test_a_refused_button_says_why_on_the_screen(author, owner):
    # A secret poll closed with ballots in it cannot be reopened: its results would tell who chose what.
    secret = PollFactory(author=owner, is_secret=True)
    services.cast_vote(poll=secret, voter=visitor(), option_ids=pick(secret, "Red"))
    services.set_poll_active(poll=secret, actor=owner, active=False)
    response = author.post(screen(secret), {"action": "open"})
    assert response.status_code == 400
    assert "cannot be reopened" in unescape(response.content.decode())
    assert not state_of(secret)[2]


# --- What the screen says ----------------------------------------------------------------------------


def test_the_results_button_turns_the_way_the_audience_does_not_see(author, poll):
    # Results shown to everyone by the poll's rule: R hides them.
    html = unescape(author.get(screen(poll)).content.decode())
    assert "Following the poll's rule" in html
    assert 'value="hide"' in html and "Hide results" in html
    author.post(screen(poll), {"action": "hide"})
    html = unescape(author.get(screen(poll)).content.decode())
    assert "Hidden from the audience" in html
    assert 'value="reveal"' in html and "Reveal results" in html
    assert "Follow the poll's rule" in html and "End presenting" in html
    author.post(screen(poll), {"action": "reveal"})
    assert "Audience sees results" in unescape(author.get(screen(poll)).content.decode())


def test_a_rule_that_hides_results_is_turned_by_revealing(author, owner):
    after_close = PollFactory(author=owner, results_visibility=Poll.ResultsVisibility.AFTER_CLOSE)
    html = unescape(author.get(screen(after_close)).content.decode())
    assert "The results show when voting closes." in html
    assert 'value="reveal"' in html


def test_an_open_secret_poll_cannot_be_revealed(author, owner):
    secret = PollFactory(author=owner, is_secret=True)
    html = unescape(author.get(screen(secret)).content.decode())
    assert "secret ballot" in html.lower()
    assert 'data-control="results" data-shortcut="r" aria-keyshortcuts="R" disabled' in html


def test_the_voters_count_is_on_the_screen(author, poll):
    for number in range(3):
        services.cast_vote(poll=poll, voter=visitor(number), option_ids=pick(poll, "Red"))
    html = unescape(author.get(screen(poll)).content.decode())
    assert "<strong data-presenter-voters>3</strong> voted" in html


def test_the_poll_page_links_its_managers_to_the_screen_and_shows_the_join_code(client, owner, other_user, poll):
    client.force_login(owner)
    html = client.get(f"/p/{poll.slug}/").content.decode()
    assert f'href="{screen(poll)}"' in html
    assert f'href="/j/{poll.join_code}"' in html
    client.force_login(other_user)
    html = client.get(f"/p/{poll.slug}/").content.decode()
    assert screen(poll) not in html
    assert f'href="/j/{poll.join_code}"' in html


def test_a_held_polls_page_shows_no_join_code(client, owner, moderator, poll):
    services.hold_poll(poll=poll, moderator=moderator, reason="Spam")
    client.force_login(owner)
    assert f"/j/{poll.join_code}" not in client.get(f"/p/{poll.slug}/").content.decode()


def test_a_held_polls_screen_says_its_code_opens_nothing(author, moderator, poll):
    services.hold_poll(poll=poll, moderator=moderator, reason="Spam")
    html = unescape(author.get(screen(poll)).content.decode())
    assert "the code opens nothing until a moderator lifts the hold" in html
    assert "On hold by the moderators" in html


def test_the_share_panel_shows_the_join_code(author, poll):
    html = author.get(f"/p/{poll.slug}/share/").content.decode()
    assert f'href="/j/{poll.join_code}"' in html
    assert f'href="{screen(poll)}"' in html


# --- Decks -------------------------------------------------------------------------------------------


@pytest.fixture
def deck(owner):
    polls = [PollFactory(author=owner, title=f"Question {number}?") for number in (1, 2, 3)]
    return decks.create_deck(author=owner, title="Monday meetup", poll_ids=[poll.pk for poll in polls])


def position_of(deck) -> int:
    return Deck.objects.get(pk=deck.pk).position


def test_the_deck_screen_shows_its_current_poll_place_and_the_decks_join_code(author, deck):
    html = unescape(author.get(deck_screen(deck)).content.decode())
    assert "Question 1?" in html
    assert "Poll 1 of 3" in html
    code = deck.join_code
    assert f"{code[:3]} {code[3:]}" in html
    assert f"/j/{code}" in html
    first = deck.current_poll
    assert f"/j/{first.join_code}" not in html


def test_next_previous_and_goto_move_the_deck(author, deck):
    assert author.post(deck_screen(deck), {"action": "next"})["Location"] == deck_screen(deck)
    assert position_of(deck) == 1
    assert "Poll 2 of 3" in unescape(author.get(deck_screen(deck)).content.decode())
    author.post(deck_screen(deck), {"action": "goto", "position": "2"})
    assert position_of(deck) == 2
    author.post(deck_screen(deck), {"action": "previous"})
    assert position_of(deck) == 1


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"action": "previous"}, "no poll before this one"),
        ({"action": "goto", "position": "3"}, "last poll"),
        ({"action": "goto", "position": "two"}, "Choose one of the deck's polls"),
    ],
)
def test_moves_past_either_end_are_refused_on_the_screen(author, deck, data, says):
    response = author.post(deck_screen(deck), data)
    assert response.status_code == 400
    assert says in unescape(response.content.decode())
    assert position_of(deck) == 0


def test_next_at_the_last_poll_stays_there(author, deck):
    author.post(deck_screen(deck), {"action": "goto", "position": "2"})
    assert author.post(deck_screen(deck), {"action": "next"}).status_code == 400
    assert position_of(deck) == 2


def test_the_poll_buttons_act_on_the_decks_current_poll(author, deck):
    author.post(deck_screen(deck), {"action": "next"})
    second = Deck.objects.get(pk=deck.pk).current_poll
    author.post(deck_screen(deck), {"action": "reveal"})
    author.post(deck_screen(deck), {"action": "close"})
    assert state_of(second) == (True, Poll.AudienceResults.SHOWN, False)
    first = Deck.objects.get(pk=deck.pk).items.get(position=0).poll
    assert state_of(first) == (False, Poll.AudienceResults.RULE, True)


def test_the_deck_screen_is_its_authors_and_the_moderators(client, other_user, moderator, deck):
    assert client.get(deck_screen(deck))["Location"].startswith(f"{LOGIN}?next=")
    client.force_login(other_user)
    assert client.get(deck_screen(deck)).status_code == 404
    assert client.post(deck_screen(deck), {"action": "next"}).status_code == 404
    assert position_of(deck) == 0
    client.force_login(moderator)
    assert client.get(deck_screen(deck)).status_code == 200


def test_opening_the_deck_screen_writes_nothing(author, deck):
    author.get(deck_screen(deck))
    assert position_of(deck) == 0
    assert not any(Poll.objects.filter(deck_items__deck=deck).values_list("presenting_since", flat=True))


def test_an_unknown_deck_has_no_screen(author):
    assert author.get("/decks/00000000-0000-4000-8000-000000000000/present/").status_code == 404
    assert author.get("/decks/not-a-deck/present/").status_code == 404



def test_hiding_an_answer_on_the_screen_comes_back_to_the_screen(author, owner):
    from polls import answers

    poll = PollFactory(author=owner, method="text", options=[])
    answers.submit_answer(poll=poll, voter=visitor(1), text="Spam")
    page = author.get(screen(poll)).content.decode()
    assert f'name="back" value="{screen(poll)}"' in page
    hidden = author.post(reverse("poll-answers-hide", args=[poll.slug]), {"key": "spam", "hidden": "1", "back": screen(poll)})
    assert hidden.status_code == 302 and hidden["Location"] == screen(poll)
    elsewhere = author.post(reverse("poll-answers-hide", args=[poll.slug]), {"key": "spam", "hidden": "0", "back": "/admin/"})
    assert elsewhere["Location"] == f"/p/{poll.slug}/"
