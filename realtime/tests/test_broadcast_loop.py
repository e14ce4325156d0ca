"""A WSGI process (quickpoll.wsgi) broadcasts from a loop in a thread of its own, never from the request."""

import asyncio
import threading
import time
import uuid
from types import SimpleNamespace

import pytest

from realtime import events


@pytest.fixture
def broadcast_loop(monkeypatch):
    """What start_broadcast_loop() sets up, on a loop this test can stop again."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(events, "_broadcast_loop", loop)
    monkeypatch.setattr(events.results, "server_loop", loop)
    monkeypatch.setattr(events.stats, "server_loop", loop)
    yield loop, thread
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.close()


def wait_for(condition, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_a_broadcast_runs_on_the_broadcast_loop_and_the_caller_does_not_wait(broadcast_loop, monkeypatch):
    loop, thread = broadcast_loop
    seen = []
    release = threading.Event()

    async def slow_request(poll_id, public, voter_keys, committed_at):
        seen.append((asyncio.get_running_loop(), threading.current_thread(), poll_id))
        await asyncio.to_thread(release.wait, 5)  # a Redis that takes its time

    monkeypatch.setattr(events, "_request_results", slow_request)
    poll = SimpleNamespace(pk=uuid.uuid4(), is_public=True)

    started = time.monotonic()
    events.publish_results_changed(poll)
    returned_after = time.monotonic() - started

    assert returned_after < 0.5
    assert wait_for(lambda: seen)
    assert seen == [(loop, thread, poll.pk)]
    release.set()


def test_a_broadcast_that_fails_on_the_loop_is_logged_not_raised(broadcast_loop, monkeypatch, caplog):
    async def failing_request(poll_id, public, voter_keys, committed_at):
        raise ConnectionError("Redis is gone")

    monkeypatch.setattr(events, "_request_results", failing_request)

    events.publish_results_changed(SimpleNamespace(pk=uuid.uuid4(), is_public=False))

    assert wait_for(lambda: "broadcast skipped" in caplog.text)
