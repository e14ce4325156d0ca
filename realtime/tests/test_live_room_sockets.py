"""The live room over sockets: the audience follows the presenter's reveal and hide at once, a deck's socket
follows its moves, and a hidden answer group leaves the next snapshot."""

import time
import uuid

import pytest
from channels.db import database_sync_to_async

from polls import answers, decks, presenting
from polls.models import Poll
from polls.tests.factories import PollFactory
from realtime import consumers
from realtime.tests.actions import make_poll, visitor, vote
from realtime.tests.sockets import cookie, receive, receive_until, silent, with_origin

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

# "At once": the presenter's change reaches the audience well within the second the room waits.
AT_ONCE = 1.0


@database_sync_to_async
def present(poll, **change) -> Poll:
    return presenting.present(poll=poll, actor=poll.author, **change)


@database_sync_to_async
def make_deck(author, polls) -> object:
    return decks.create_deck(author=author, title="Monday's talk", poll_ids=[poll.pk for poll in polls])


@database_sync_to_async
def move(deck, position: int):
    return decks.move(deck=deck, actor=deck.author, position=position)


@database_sync_to_async
def make_text_poll(author):
    return PollFactory(author=author, title="One word for today?", method="text", options=[])


@database_sync_to_async
def answer(poll, number: int, text: str):
    return answers.submit_answer(poll=poll, voter=visitor(number), text=text)


@database_sync_to_async
def hide(poll, text: str, hidden: bool = True) -> int:
    return answers.hide(poll=poll, actor=poll.author, key=answers.normalise(text), hidden=hidden)


def of_type(kind: str):
    return lambda message: message["type"] == kind


async def drain(socket) -> list[dict]:
    """Every message until the socket stays quiet for a moment."""
    received = []
    while not await socket.receive_nothing(timeout=0.3):
        received.append(await receive(socket))
    return received


def only_presentation_news(messages: list[dict]) -> list[str]:
    """What came before the awaited message: nothing but the presentation's own news is allowed there."""
    return [message["type"] for message in messages if message["type"] != "presentation.changed"]


async def test_the_audience_loses_the_results_when_the_presenter_hides_them_and_gets_them_back_on_reveal(sockets, owner):
    poll = await make_poll(author=owner, title="Tea or coffee?")
    await vote(poll, visitor(1), "Green")
    audience = await sockets.open(f"/ws/poll/{poll.pk}")
    first = await receive(audience)
    assert (first["type"], first["total_votes"]) == ("results", 1)
    await present(poll, presenting=True)
    await drain(audience)  # whatever starting to present sent (the results again, by the poll's rule)

    started = time.monotonic()
    await present(poll, audience_results="hidden")
    hidden = await receive_until(audience, of_type("results_hidden"), timeout=AT_ONCE)

    assert time.monotonic() - started < AT_ONCE
    assert only_presentation_news(hidden[:-1]) == []
    assert "options" not in hidden[-1] and "total_votes" not in hidden[-1]

    started = time.monotonic()
    await present(poll, audience_results="shown")  # no vote in between: the reveal alone sends the results
    revealed = await receive_until(audience, of_type("results"), timeout=AT_ONCE)

    assert time.monotonic() - started < AT_ONCE
    assert only_presentation_news(revealed[:-1]) == []
    assert revealed[-1]["total_votes"] == 1
    assert {option["text"]: option["votes"] for option in revealed[-1]["options"]} == {"Red": 0, "Green": 1, "Blue": 0}


async def test_the_author_keeps_the_results_while_the_audience_has_them_hidden(sockets, owner, session_cookie):
    poll = await make_poll(author=owner)
    session = await database_sync_to_async(session_cookie)(owner)
    author = await sockets.open(f"/ws/poll/{poll.pk}", headers=with_origin(cookie(sessionid=session)))
    audience = await sockets.open(f"/ws/poll/{poll.pk}")
    assert (await receive(author))["type"] == (await receive(audience))["type"] == "results"
    await present(poll, presenting=True, audience_results="hidden")
    await receive_until(audience, of_type("results_hidden"))

    await vote(poll, visitor(2), "Blue")

    seen = await receive_until(author, lambda message: message["type"] == "results" and message["total_votes"] == 1)
    assert "results_hidden" not in [message["type"] for message in seen]
    # The audience sees nothing move while hidden.
    assert await silent(audience)


async def test_ending_the_presentation_brings_the_polls_own_rule_back_to_the_audience(sockets, owner):
    poll = await make_poll(author=owner, results_visibility=Poll.ResultsVisibility.OWNER_ONLY)
    audience = await sockets.open(f"/ws/poll/{poll.pk}")
    assert (await receive(audience))["type"] == "results_hidden"

    await present(poll, presenting=True, audience_results="shown")
    assert (await receive_until(audience, of_type("results"), timeout=AT_ONCE))[-1]["type"] == "results"

    await present(poll, presenting=False)
    back = await receive_until(audience, of_type("results_hidden"), timeout=AT_ONCE)
    assert back[-1]["reason"] == "Only the poll's author sees the results."


async def test_a_deck_socket_says_where_the_deck_is_on_connect_and_on_each_move(sockets, owner):
    polls = [await make_poll(author=owner, title=f"Question {number}") for number in range(3)]
    deck = await make_deck(owner, polls)

    socket = await sockets.open(f"/ws/deck/{deck.pk}")
    on_connect = await receive(socket)

    assert {key: on_connect[key] for key in ("type", "deck_id", "position", "count")} == {
        "type": "deck.moved",
        "deck_id": str(deck.pk),
        "position": 0,
        "count": 3,
    }
    assert on_connect["poll"] == {
        "id": str(polls[0].pk),
        "slug": polls[0].slug,
        "title": "Question 0",
        "url": on_connect["poll"]["url"],
        "join_code": polls[0].join_code,
    }
    assert polls[0].slug in on_connect["poll"]["url"]

    for position in (2, 1):
        started = time.monotonic()
        await move(deck, position)
        moved = await receive_until(socket, of_type("deck.moved"), timeout=AT_ONCE)
        assert time.monotonic() - started < AT_ONCE
        assert (moved[-1]["position"], moved[-1]["count"]) == (position, 3)
        assert (moved[-1]["poll"]["id"], moved[-1]["poll"]["title"]) == (str(polls[position].pk), f"Question {position}")


async def test_every_socket_of_a_deck_follows_a_move(sockets, owner):
    polls = [await make_poll(author=owner, title=f"Question {number}") for number in range(2)]
    deck = await make_deck(owner, polls)
    audience = [await sockets.open(f"/ws/deck/{deck.pk}") for _ in range(3)]
    for socket in audience:
        assert (await receive(socket))["position"] == 0

    await move(deck, 1)

    for socket in audience:
        assert (await receive_until(socket, of_type("deck.moved")))[-1]["poll"]["id"] == str(polls[1].pk)


async def test_an_unknown_deck_is_refused_with_4404(sockets):
    assert await sockets.refused(f"/ws/deck/{uuid.uuid4()}") == consumers.CLOSE_NOT_FOUND


def groups_of(message: dict) -> dict[str, int]:
    return {group["key"]: group["count"] for group in message["answers"]["groups"]}


async def test_a_hidden_answer_group_is_gone_from_the_next_snapshot(sockets, owner):
    poll = await make_text_poll(owner)
    for number, text in enumerate(["Coffee", "coffee!", "Tea", "Rude word"], start=1):
        await answer(poll, number, text)
    audience = await sockets.open(f"/ws/poll/{poll.pk}")
    first = await receive(audience)
    rude = answers.normalise("Rude word")
    assert first["type"] == "results" and first["total_votes"] == 4
    assert groups_of(first) == {answers.normalise("Coffee"): 2, answers.normalise("Tea"): 1, rude: 1}

    started = time.monotonic()
    assert await hide(poll, "Rude word") == 1
    after = (await receive_until(audience, of_type("results"), timeout=AT_ONCE))[-1]

    assert time.monotonic() - started < AT_ONCE
    assert rude not in groups_of(after)
    assert after["total_votes"] == after["answers"]["answers"] == 3
    assert "rude word" not in str(after).lower()

    # A later answer in the hidden group stays hidden too; showing the group again brings both back.
    await answer(poll, 5, "RUDE word.")
    await hide(poll, "Rude word", hidden=False)
    shown = await receive_until(audience, lambda message: message["type"] == "results" and rude in groups_of(message))
    assert groups_of(shown[-1])[rude] == 2 and shown[-1]["total_votes"] == 5
