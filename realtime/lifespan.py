"""The socket processes' lifespan: on a graceful stop (SIGTERM), every socket is told to reconnect.

Each socket still open is closed with 1012 (Service Restart), which the page answers by
reconnecting after a short random delay, through the proxy, to a server that is still up; a
socket that opens meanwhile is sent on the same way. Requests in flight (a single server's pages
and API) finish first.

uvicorn closes its sockets with 1012 itself, then sends "lifespan.shutdown", which finds none
left. granian, on SIGTERM, drops every socket at once without a close frame (the client sees
1006) before the application hears of it, so under granian this process answers SIGTERM itself:
it closes the sockets, then hands over to granian's own stop, which SIGINT starts.
"""

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from realtime.consumers import QuickPollConsumer

logger = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 8.0  # seconds: under the launchers' kill timeout (bin/sockets, bin/single: 10 s)
POLL_INTERVAL = 0.05


async def wait_until(predicate, timeout: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(POLL_INTERVAL)
    return True


async def close_every_socket(timeout: float = SHUTDOWN_TIMEOUT) -> int:
    """Close this process's open sockets with 1012 and refuse new ones; returns how many were told."""
    QuickPollConsumer.stopping = True
    sockets = list(QuickPollConsumer.accepted)
    results = await asyncio.gather(*(socket.close_for_restart() for socket in sockets), return_exceptions=True)
    for socket, result in zip(sockets, results):
        if isinstance(result, Exception):  # its client had gone already: nothing to tell it
            logger.info("socket %s was gone before its 1012: %s", socket.scope.get("path"), result)
    # Each close frame goes out and the client's reply comes back: give them the time to cross.
    await wait_until(lambda: QuickPollConsumer.open_connections == 0, timeout)
    return len(sockets)


def under_granian() -> bool:
    return Path(sys.argv[0]).parent.name == "granian" or Path(sys.argv[0]).name == "granian"


class LifespanMiddleware:
    """ASGI middleware: answers the lifespan protocol, counts HTTP requests in flight, and on a graceful
    stop closes every socket with 1012 and lets those requests finish."""

    def __init__(self, app):
        self.app = app
        self.requests_in_flight = 0
        self.draining: asyncio.Task | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self.lifespan(receive, send)
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        self.requests_in_flight += 1
        try:
            return await self.app(scope, receive, send)
        finally:
            self.requests_in_flight -= 1

    async def lifespan(self, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if under_granian():
                    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.on_sigterm)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def on_sigterm(self):
        if self.draining is None:  # the server's supervisor and a process-group signal may both send it
            self.draining = asyncio.get_running_loop().create_task(self.close_then_hand_over())

    async def close_then_hand_over(self):
        told = await close_every_socket()
        logger.info("stopping: %d sockets told to reconnect (1012)", told)
        os.kill(os.getpid(), signal.SIGINT)  # granian's worker stops on SIGINT as it would have on SIGTERM

    async def stop(self):
        if not await wait_until(lambda: self.requests_in_flight == 0, SHUTDOWN_TIMEOUT):
            logger.warning("stopping with %d requests still in flight", self.requests_in_flight)
        told = await close_every_socket()
        if told:
            logger.info("stopping: %d sockets told to reconnect (1012)", told)
