"""realtime.hub: one subscription per group per process, a mailbox per socket."""

import asyncio

import pytest

from realtime import events
from realtime.hub import Hub, Mailbox, hub
from realtime.tests.actions import make_poll, visitor, vote
from realtime.tests.sockets import receive

pytestmark = pytest.mark.asyncio


def snapshot(version: int) -> dict:
    return {"type": "results.snapshot", "version": version}


async def drain(mailbox: Mailbox) -> list[dict]:
    taken = []
    while True:
        try:
            taken.append(await asyncio.wait_for(mailbox.next(), 0.05))
        except asyncio.TimeoutError:
            return taken


async def test_a_mailbox_keeps_events_in_order_and_only_the_newest_snapshot():
    mailbox = Mailbox()
    for message in (snapshot(1), {"type": "poll.event", "n": 1}, snapshot(2), {"type": "poll.event", "n": 2}, snapshot(3)):
        mailbox.post(message)

    assert await drain(mailbox) == [{"type": "poll.event", "n": 1}, {"type": "poll.event", "n": 2}, snapshot(3)]


class FlakyLayer:
    """A channel layer whose first subscription fails, as when Redis is restarting; it counts subscriptions."""

    def __init__(self):
        self.attempts = 0
        self.subscribed: list[tuple[str, str]] = []
        self.queue: asyncio.Queue = asyncio.Queue()

    async def new_channel(self):
        self.attempts += 1
        if self.attempts == 1:
            raise ConnectionError("Redis is restarting")
        return f"channel-{self.attempts}"

    async def group_add(self, group, channel):
        self.subscribed.append((group, channel))

    async def group_discard(self, group, channel):
        self.subscribed.remove((group, channel))

    async def receive(self, channel):
        return await self.queue.get()


async def test_many_sockets_share_one_subscription_that_retries_until_the_layer_is_back(monkeypatch):
    layer = FlakyLayer()
    monkeypatch.setattr("realtime.hub.get_channel_layer", lambda: layer)
    monkeypatch.setattr("realtime.hub.RETRY_SECONDS", 0.01)
    local = Hub(asyncio.get_running_loop())
    mailboxes = [Mailbox() for _ in range(50)]

    for mailbox in mailboxes:
        await local.join("poll.x", mailbox)
    await layer.queue.put(snapshot(7))

    assert layer.subscribed == [("poll.x", "channel-2")]
    assert [await asyncio.wait_for(mailbox.next(), 1) for mailbox in mailboxes] == [snapshot(7)] * 50

    for mailbox in mailboxes:
        local.leave("poll.x", mailbox)
    await asyncio.sleep(0.05)  # the listener, cancelled, leaves the group
    assert layer.subscribed == [] and local.members("poll.x") == 0


@pytest.mark.django_db(transaction=True)
async def test_sockets_on_one_poll_share_the_process_subscription_and_all_get_the_vote(sockets, owner):
    poll = await make_poll(author=owner)
    opened = [await sockets.open(f"/ws/poll/{poll.pk}") for _ in range(5)]
    for socket in opened:
        await receive(socket)

    assert hub().members(events.poll_group(poll.pk)) == 5
    await vote(poll, visitor(1), "Red")

    assert [(await receive(socket))["total_votes"] for socket in opened] == [1] * 5


async def test_snapshots_from_several_senders_reach_sockets_at_most_once_per_interval(monkeypatch):
    layer = FlakyLayer()
    layer.attempts = 1  # no failure this time
    monkeypatch.setattr("realtime.hub.get_channel_layer", lambda: layer)
    monkeypatch.setattr("realtime.hub.SNAPSHOT_INTERVAL", 0.2)
    local = Hub(asyncio.get_running_loop())
    mailbox = Mailbox()
    await local.join("poll.x", mailbox)

    for version in (1, 3, 2):  # three senders, one right after another; 2 arrives late
        await layer.queue.put(snapshot(version))
    first = await asyncio.wait_for(mailbox.next(), 1)
    assert first == snapshot(1)
    await asyncio.sleep(0.05)
    assert await drain(mailbox) == []  # 3 is held for the rest of the interval

    await asyncio.sleep(0.2)
    assert await drain(mailbox) == [snapshot(3)]
    local.leave("poll.x", mailbox)


async def test_a_bigger_audience_gets_snapshots_less_often(monkeypatch):
    layer = FlakyLayer()
    layer.attempts = 1
    monkeypatch.setattr("realtime.hub.get_channel_layer", lambda: layer)
    monkeypatch.setattr("realtime.hub.SNAPSHOT_INTERVAL", 0.05)
    monkeypatch.setattr("realtime.hub.SENDS_PER_SECOND", 20)  # so ten sockets make a 0.5 s interval
    local = Hub(asyncio.get_running_loop())
    mailboxes = [Mailbox() for _ in range(10)]
    for mailbox in mailboxes:
        await local.join("poll.x", mailbox)

    await layer.queue.put(snapshot(1))
    assert await asyncio.wait_for(mailboxes[0].next(), 1) == snapshot(1)
    await layer.queue.put(snapshot(2))
    await asyncio.sleep(0.2)  # past the small audience's interval, within the big one's
    assert await drain(mailboxes[0]) == []
    await asyncio.sleep(0.4)
    assert await drain(mailboxes[0]) == [snapshot(2)]
    for mailbox in mailboxes:
        local.leave("poll.x", mailbox)


async def test_the_hub_never_passes_an_older_snapshot_or_the_same_one_twice(monkeypatch):
    layer = FlakyLayer()
    layer.attempts = 1
    monkeypatch.setattr("realtime.hub.get_channel_layer", lambda: layer)
    monkeypatch.setattr("realtime.hub.SNAPSHOT_INTERVAL", 0.05)
    local = Hub(asyncio.get_running_loop())
    mailbox = Mailbox()
    await local.join("poll.x", mailbox)

    await layer.queue.put(snapshot(5))
    assert await asyncio.wait_for(mailbox.next(), 1) == snapshot(5)
    await asyncio.sleep(0.1)  # the interval is over: nothing holds back what comes next
    for version in (4, 5):  # a slower sender's older snapshot; another sender's copy of the same
        await layer.queue.put(snapshot(version))
    await asyncio.sleep(0.05)

    assert await drain(mailbox) == []
    local.leave("poll.x", mailbox)

