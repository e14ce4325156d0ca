"""One channel-layer subscription per group per server process, shared by its sockets.

Channels gives each socket a channel of its own and delivers every group message once
per socket through the layer. With 5,000 sockets on one poll that is 5,000 queue hops
per snapshot, more than one process can do five times a second. Here a process listens
once per group and drops each message into the mailbox of each of its sockets on that
group. A socket that is slow to write falls behind alone, and only sends the newest
results snapshot when it catches up: each carries absolute counts. However many HTTP
processes send snapshots of a poll, its sockets get at most one per interval (SnapshotGate):
SNAPSHOT_INTERVAL for a small audience, longer for a big one, so that a process sends no more
than SENDS_PER_SECOND updates a second to one group. realtime.events lists every place that
thins snapshots out, and why.

A group's listener outlives a channel layer that fails (Redis restarting): it retries
until it can subscribe again, and its sockets get live updates again by themselves.
"""

import asyncio
import logging
from collections import deque

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
SUBSCRIBE_TIMEOUT = 2.0
SNAPSHOT = "results.snapshot"
# The shortest interval between two snapshots to a group's sockets: two HTTP processes each sending
# one per RESULTS_INTERVAL (0.1 s) mostly pass straight through.
SNAPSHOT_INTERVAL = 0.05
# A bigger audience waits longer between snapshots (1,000 sockets: 0.1 s; 5,000: 0.5 s), so that its
# fan-out keeps up with the snapshots instead of falling behind them.
SENDS_PER_SECOND = 10_000


def snapshot_interval(members: int) -> float:
    return max(SNAPSHOT_INTERVAL, members / SENDS_PER_SECOND)


class Mailbox:
    """What one socket has yet to handle: every other message in order; of snapshots, the newest.

    The newest is the last posted: the group's SnapshotGate lets none through that is older.
    """

    def __init__(self):
        self._messages: deque = deque()
        self._snapshot: dict | None = None
        self._ready = asyncio.Event()

    def post(self, message: dict) -> None:
        if message["type"] == SNAPSHOT:
            self._snapshot = message
        else:
            self._messages.append(message)
        self._ready.set()

    async def next(self) -> dict:
        while True:
            await self._ready.wait()
            if self._messages:
                message = self._messages.popleft()
            elif self._snapshot is not None:
                message, self._snapshot = self._snapshot, None
            else:
                self._ready.clear()
                continue
            if not self._messages and self._snapshot is None:
                self._ready.clear()
            return message


class SnapshotGate:
    """The snapshots of one group, on their way to this process's sockets: at most one per
    snapshot_interval(sockets on the group), however many processes send them, and each newer than the last.

    One that comes sooner waits for the interval's end, and is replaced by any newer one
    meanwhile. One no newer than the last let through or held is dropped: two HTTP processes
    read and send independently, so their snapshots can arrive out of order, or twice.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, post, members):
        self.loop = loop
        self.post = post  # callable(message): to every socket on the group
        self.members = members  # callable(): how many sockets the group has in this process
        self.newest = -1  # the version of the last snapshot let through or held
        self.sent_at = float("-inf")  # loop time of the last one let through
        self.held: dict | None = None
        self.timer: asyncio.TimerHandle | None = None

    def offer(self, message: dict) -> None:
        if message["version"] <= self.newest:
            return
        self.newest = message["version"]
        if self.held is not None:
            self.held = message
            return
        wait = self.sent_at + snapshot_interval(self.members()) - self.loop.time()
        if wait <= 0:
            self._send(message)
            return
        self.held = message
        self.timer = self.loop.call_later(wait, self._release)

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()

    def _release(self) -> None:
        message, self.held, self.timer = self.held, None, None
        self._send(message)

    def _send(self, message: dict) -> None:
        self.sent_at = self.loop.time()
        self.post(message)


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self._members: dict[str, set[Mailbox]] = {}
        self._listeners: dict[str, asyncio.Task] = {}
        self._subscribed: dict[str, asyncio.Event] = {}
        self._gates: dict[str, SnapshotGate] = {}

    async def join(self, group: str, mailbox: Mailbox) -> None:
        """Returns once the group's messages reach this process (or after SUBSCRIBE_TIMEOUT if the
        layer is out of reach), so that nothing sent after the caller's first snapshot is missed."""
        self._members.setdefault(group, set()).add(mailbox)
        if group not in self._listeners:
            self._subscribed[group] = asyncio.Event()
            self._gates[group] = SnapshotGate(
                self.loop, lambda message: self._post(group, message), lambda: self.members(group)
            )
            self._listeners[group] = self.loop.create_task(self._listen(group))
        try:
            await asyncio.wait_for(self._subscribed[group].wait(), SUBSCRIBE_TIMEOUT)
        except asyncio.TimeoutError:
            pass  # the listener keeps trying; this socket gets updates once it succeeds

    def leave(self, group: str, mailbox: Mailbox) -> None:
        members = self._members.get(group)
        if members is not None:
            members.discard(mailbox)
            if members:
                return
            del self._members[group]
        listener = self._listeners.pop(group, None)
        self._subscribed.pop(group, None)
        gate = self._gates.pop(group, None)
        if gate is not None:
            gate.close()
        if listener is not None:
            listener.cancel()

    def members(self, group: str) -> int:
        return len(self._members.get(group, ()))

    async def _listen(self, group: str) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        channel = None
        try:
            while True:
                try:
                    if channel is None:
                        channel = await asyncio.wait_for(layer.new_channel(), SUBSCRIBE_TIMEOUT)
                        await asyncio.wait_for(layer.group_add(group, channel), SUBSCRIBE_TIMEOUT)
                        self._subscribed[group].set()
                    message = await layer.receive(channel)
                except Exception:
                    logger.warning("no live updates for %s for now; retrying", group, exc_info=True)
                    channel = None
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                if message["type"] == SNAPSHOT:
                    self._gates[group].offer(message)
                else:
                    self._post(group, message)
        finally:
            if channel is not None:
                try:
                    await asyncio.wait_for(layer.group_discard(group, channel), SUBSCRIBE_TIMEOUT)
                except Exception:
                    logger.info("could not leave %s; the layer expires it", group)

    def _post(self, group: str, message: dict) -> None:
        for mailbox in self._members.get(group, ()):
            mailbox.post(message)


_hub: Hub | None = None


def hub() -> Hub:
    """This process's hub, on the running loop (a test's new loop gets a new one)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        _hub = Hub(loop)
    return _hub
