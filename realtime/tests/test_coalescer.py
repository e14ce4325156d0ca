"""realtime.events.Coalescer: at most one message per key per interval; the first after a quiet interval at once."""

import asyncio

import pytest
import pytest_asyncio

from realtime import broadcast_loop
from realtime.events import Coalescer

pytestmark = pytest.mark.asyncio

INTERVAL = 0.2


@pytest_asyncio.fixture
async def sent(monkeypatch):
    monkeypatch.setattr(broadcast_loop, "_server_loop", asyncio.get_running_loop())
    messages = []

    async def send(key, notes, since):
        messages.append((key, sorted(notes), asyncio.get_running_loop().time()))

    return messages, Coalescer(INTERVAL, send)


async def test_the_first_change_after_a_quiet_interval_leaves_at_once(sent):
    messages, coalescer = sent
    start = asyncio.get_running_loop().time()
    await coalescer.request("poll", {"a"})
    await asyncio.sleep(0.02)
    assert [(key, notes) for key, notes, _ in messages] == [("poll", ["a"])]
    assert messages[0][2] - start < 0.02


async def test_changes_within_the_interval_leave_together_at_its_end(sent):
    messages, coalescer = sent
    await coalescer.request("poll", {"a"})
    await asyncio.sleep(0.02)
    for voter in ("b", "c"):
        await coalescer.request("poll", {voter})
    await asyncio.sleep(0.05)
    assert len(messages) == 1  # b and c wait for the interval's end

    await asyncio.sleep(INTERVAL)
    assert [notes for _, notes, _ in messages] == [["a"], ["b", "c"]]
    assert messages[1][2] - messages[0][2] == pytest.approx(INTERVAL, abs=0.03)


async def test_keys_are_paced_apart_and_forgotten_after_their_interval(sent):
    messages, coalescer = sent
    await coalescer.request("one", {"a"})
    await coalescer.request("two", {"b"})
    await asyncio.sleep(0.02)
    assert sorted(key for key, _, _ in messages) == ["one", "two"]  # another poll does not wait for the first

    await asyncio.sleep(INTERVAL + 0.05)
    assert coalescer._sent_at == {}
    await coalescer.request("one", {"c"})
    await asyncio.sleep(0.02)
    assert len(messages) == 3  # quiet again: at once
