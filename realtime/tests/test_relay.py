"""How group messages reach a socket: through the process's hub and the socket's relay task, not a
channel per socket (QuickPollConsumer, on Channels' public API: connect, disconnect, channel_layer_alias)."""

import asyncio
import json

import pytest
from channels.layers import get_channel_layer
from django.db import OperationalError

from realtime import events
from realtime.consumers import PollResultsConsumer, QuickPollConsumer
from realtime.hub import hub
from realtime.tests.actions import make_poll
from realtime.tests.sockets import receive, silent

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def snapshot(poll, version: int) -> dict:
    """A results envelope as realtime.events sends it, reduced to what the relay looks at."""
    text = json.dumps({"type": "results", "poll_id": str(poll.pk), "version": version})
    return {"type": "results.snapshot", "text": text, "version": version, "is_open": True, "voters": []}


def relays() -> list[asyncio.Task]:
    return [task for task in asyncio.all_tasks() if task.get_coro().__qualname__ == "QuickPollConsumer._relay"]


async def test_sockets_have_no_channel_of_their_own_in_the_layer(sockets, owner, monkeypatch):
    assert get_channel_layer(QuickPollConsumer.channel_layer_alias) is None
    layer = get_channel_layer()
    made = []
    new_channel = layer.new_channel

    async def counted_new_channel(*args, **kwargs):
        made.append(await new_channel(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(layer, "new_channel", counted_new_channel)
    poll = await make_poll(author=owner)

    for _ in range(3):
        await receive(await sockets.open(f"/ws/poll/{poll.pk}"))

    assert len(made) == 1  # the hub's, for the poll's group


async def test_a_group_message_reaches_its_handler(sockets):
    socket = await sockets.open("/ws/global")
    await receive(socket)

    message = {"type": "poll.created", "poll": {"id": "x"}}
    await get_channel_layer().group_send(events.GLOBAL_GROUP, {"type": "public.event", "message": message})

    assert await receive(socket) == message


async def test_a_slow_socket_gets_the_snapshot_it_was_writing_then_only_the_newest(sockets, owner, monkeypatch):
    monkeypatch.setattr("realtime.hub.SNAPSHOT_INTERVAL", 0)  # every snapshot reaches the mailbox
    poll = await make_poll(author=owner)
    socket = await sockets.open(f"/ws/poll/{poll.pk}")
    assert (await receive(socket))["version"] == 0
    writing = asyncio.Event()
    written = asyncio.Event()
    results_snapshot = PollResultsConsumer.results_snapshot

    async def slow_results_snapshot(consumer, event):
        if event["version"] == 1:  # a client that reads slowly: this one takes a while to go out
            writing.set()
            await written.wait()
        await results_snapshot(consumer, event)

    monkeypatch.setattr(PollResultsConsumer, "results_snapshot", slow_results_snapshot)
    layer = get_channel_layer()

    await layer.group_send(events.poll_group(poll.pk), snapshot(poll, 1))
    await asyncio.wait_for(writing.wait(), 2)
    for version in (2, 3, 4):
        await layer.group_send(events.poll_group(poll.pk), snapshot(poll, version))
    await asyncio.sleep(0.1)
    written.set()

    assert [(await receive(socket))["version"] for _ in range(2)] == [1, 4]
    assert await silent(socket)


async def test_disconnecting_stops_the_relay_and_leaves_the_group(sockets, owner):
    poll = await make_poll(author=owner)
    opened = [await sockets.open(f"/ws/poll/{poll.pk}") for _ in range(3)]
    for socket in opened:
        await receive(socket)
    assert len(relays()) == 3

    await opened[0].disconnect()
    await asyncio.sleep(0)  # the cancelled relay finishes on the next turn of the loop

    assert len(relays()) == 2
    assert hub().members(events.poll_group(poll.pk)) == 2


async def test_a_handler_that_finds_the_database_down_closes_the_socket_with_4503(sockets, owner, monkeypatch):
    poll = await make_poll(author=owner)
    socket = await sockets.open(f"/ws/poll/{poll.pk}")
    await receive(socket)

    async def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("realtime.consumers._load_poll", refuse)
    message = {"type": "poll.updated", "poll_id": str(poll.pk)}
    await get_channel_layer().group_send(events.poll_group(poll.pk), {"type": "poll.event", "message": message})

    assert await receive(socket) == message
    closing = await socket.receive_output(timeout=2)
    assert closing == {"type": "websocket.close", "code": 4503}
    assert not relays()
