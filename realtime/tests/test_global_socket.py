"""/ws/global: platform counters and new public polls; unlisted polls never show up there."""

import json

import pytest

from polls.voters import Voter
from realtime import events
from realtime.tests.actions import make_poll, visitor, vote
from realtime.tests.sockets import receive, receive_until, silent

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

STATS_KEYS = {"type", "total_polls", "open_polls", "total_votes", "total_likes", "total_users", "today", "trending"}


@pytest.fixture
def quick_stats(monkeypatch):
    # Platform counters leave at most every STATS_INTERVAL (2 s); a test need not wait that long.
    monkeypatch.setattr(events.stats, "interval", 0.05)


def is_stats(message: dict) -> bool:
    return message["type"] == "stats"


async def test_connecting_sends_the_platform_counters_of_public_polls_only(sockets, owner, other_user):
    public = await make_poll(author=owner)
    unlisted = await make_poll(author=owner, is_public=False)
    await vote(public, visitor(1))
    await vote(unlisted, visitor(1))
    await vote(unlisted, Voter(user=other_user))

    socket = await sockets.open("/ws/global")

    stats = await receive(socket)
    assert STATS_KEYS <= set(stats)
    assert stats["type"] == "stats"
    assert stats["total_polls"] == 1
    assert stats["open_polls"] == 1
    assert stats["total_votes"] == 1
    assert stats["today"] == {"polls_created": 1, "votes": 1, "likes": 0}
    assert stats["trending"] == [str(public.pk)]


async def test_a_new_public_poll_is_announced(sockets, owner):
    socket = await sockets.open("/ws/global")
    await receive(socket)

    poll = await make_poll(author=owner, title="Tabs or spaces?")

    message = await receive(socket)
    assert message["type"] == "poll.created"
    assert message["poll"]["id"] == str(poll.pk)
    assert message["poll"]["title"] == "Tabs or spaces?"
    assert message["poll"]["slug"] == poll.slug
    assert message["poll"]["author"] == owner.public_name


async def test_an_unlisted_poll_never_appears(sockets, owner, quick_stats):
    socket = await sockets.open("/ws/global")
    await receive(socket)

    unlisted = await make_poll(author=owner, is_public=False, title="Our secret plan")
    await vote(unlisted, visitor(1))
    assert await silent(socket)

    # A public vote makes the counters leave: they must not count or name the unlisted poll either.
    public = await make_poll(author=owner)
    await vote(public, visitor(1))
    received = await receive_until(socket, is_stats)
    assert [message["type"] for message in received] == ["poll.created", "stats"]
    assert received[-1]["total_polls"] == 1
    assert received[-1]["total_votes"] == 1
    for message in received:
        text = json.dumps(message)
        assert str(unlisted.pk) not in text
        assert "Our secret plan" not in text


async def test_votes_on_public_polls_refresh_the_counters(sockets, owner, quick_stats):
    poll = await make_poll(author=owner)
    socket = await sockets.open("/ws/global")
    assert (await receive(socket))["total_votes"] == 0

    await vote(poll, visitor(1))
    await vote(poll, visitor(2))

    stats = (await receive_until(socket, lambda message: is_stats(message) and message["total_votes"] == 2))[-1]
    assert stats["trending"] == [str(poll.pk)]
    assert stats["today"]["votes"] == 2
