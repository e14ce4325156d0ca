"""A WSGI process broadcasts from a loop in a thread of its own, never from the request; and only a
process that asks for them (BACKGROUND_THREADS, as bin/production's HTTP processes do) starts threads."""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from polls import viewcounts
from realtime import broadcast_loop as loop_module
from realtime import events

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def broadcast_loop(monkeypatch):
    """What broadcast_loop.start() sets up, on a loop this test can stop again."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(loop_module, "_thread_loop", loop)
    monkeypatch.setattr(loop_module, "_server_loop", loop)
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


def threads_of_a_process(code: str, *, background_threads: str | None = None) -> set[str]:
    """The names of the threads alive in a fresh Python process once it has run `code`."""
    script = f"{code}\nimport json, threading\nprint(json.dumps([thread.name for thread in threading.enumerate()]))"
    env = {name: value for name, value in os.environ.items() if name != "BACKGROUND_THREADS"}
    env["DJANGO_SETTINGS_MODULE"] = "quickpoll.settings"
    if background_threads is not None:
        env["BACKGROUND_THREADS"] = background_threads
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


BACKGROUND = {loop_module.THREAD_NAME, viewcounts.THREAD_NAME}
SETUP = "import django\ndjango.setup()"


@pytest.mark.parametrize("code", [SETUP, "import quickpoll.wsgi"], ids=["setup", "wsgi"])
def test_no_background_thread_starts_unless_asked(code):
    assert not threads_of_a_process(code) & BACKGROUND


def test_a_management_command_starts_no_background_thread():
    code = f"{SETUP}\nfrom django.core.management import call_command\ncall_command('check', verbosity=0)"

    assert not threads_of_a_process(code) & BACKGROUND


@pytest.mark.parametrize("code", [SETUP, "import quickpoll.wsgi"], ids=["setup", "wsgi"])
def test_background_threads_start_from_the_apps_when_asked(code):
    assert threads_of_a_process(code, background_threads="true") >= BACKGROUND
