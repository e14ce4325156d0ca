"""Which event loop broadcasts run on, and how synchronous code hands them to it.

Broadcasts are coroutines (the channel layer is async), and their coalescing needs timers,
so they need an event loop that lasts: "the server's loop".

- A socket process (ASGI, uvicorn) has one: ServerLoopMiddleware remembers it.
- An HTTP process (WSGI, granian) has none: start() runs one in a daemon thread.
  realtime's AppConfig.ready() calls it when settings.BACKGROUND_THREADS is on, which
  bin/production sets for its HTTP processes.
- Anywhere else (a management command, a test without a server) there is no server loop:
  a broadcast is sent at once on a throwaway loop, and nothing waits for a timer that
  would never fire.
"""

import asyncio
import contextvars
import logging
import threading
from collections.abc import Coroutine

from asgiref.sync import async_to_sync

logger = logging.getLogger(__name__)

THREAD_NAME = "quickpoll-broadcasts"

_server_loop: asyncio.AbstractEventLoop | None = None
_thread_loop: asyncio.AbstractEventLoop | None = None  # the one start() runs, in a WSGI process
_in_flight: set = set()  # keeps background tasks alive until they finish (the loop holds them weakly)


def on_server_loop() -> bool:
    """Whether the running loop is the server's, so that work scheduled on it will run."""
    return _server_loop is not None and asyncio.get_running_loop() is _server_loop


def start() -> None:
    """For a WSGI process: broadcasts and their coalescing run on a loop in a background
    thread, so a request never waits for Redis."""
    global _server_loop, _thread_loop
    if _thread_loop is not None:
        return
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name=THREAD_NAME, daemon=True).start()
    _server_loop = _thread_loop = loop


class ServerLoopMiddleware:
    """ASGI middleware: remembers the loop that serves the sockets as the server's."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        global _server_loop
        loop = asyncio.get_running_loop()
        if _server_loop is not loop:
            _server_loop = loop
        return await self.app(scope, receive, send)


def _log_failure(future) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("broadcast skipped", exc_info=future.exception())


def run_from_sync(coroutine_function, *args) -> None:
    """Run a broadcast step from synchronous code (a service's on_commit); failures are logged, never raised.

    In a WSGI process it is handed to the broadcast thread's loop and the request goes on at once.
    Under ASGI, async_to_sync runs it on the server's loop, where in_background() lets it go on alone.
    """
    if _thread_loop is not None:
        asyncio.run_coroutine_threadsafe(coroutine_function(*args), _thread_loop).add_done_callback(_log_failure)
        return
    try:
        async_to_sync(coroutine_function)(*args)
    except Exception:
        logger.warning("broadcast %s%r skipped", coroutine_function.__name__, args, exc_info=True)


def _spawn(loop: asyncio.AbstractEventLoop, coroutine: Coroutine) -> None:
    # A fresh context: the request that asked must not lend its (soon finished) thread to the task.
    task = loop.create_task(coroutine, context=contextvars.Context())
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)


async def in_background(coroutine: Coroutine) -> None:
    """On the server's loop, run in the background: a slow or hung Redis never holds a request.
    Anywhere else (no lasting loop), run now."""
    if on_server_loop():
        _spawn(asyncio.get_running_loop(), coroutine)
    else:
        await coroutine


def call_later(delay: float, coroutine_function, *args) -> None:
    """On the server's loop: run coroutine_function(*args) in the background in `delay` seconds."""
    loop = asyncio.get_running_loop()
    loop.call_later(delay, lambda: _spawn(loop, coroutine_function(*args)))
