"""Opening WebSockets on the real ASGI application in tests, and reading what they receive.

Sockets go through quickpoll.asgi.application, so the origin check, session and JWT
authentication and realtime.broadcast_loop.ServerLoopMiddleware (which lets the coalescer
schedule snapshots on the test's event loop) all run as they do under daphne.
"""

import asyncio

from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from quickpoll.asgi import application

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")  # the server the test's sockets reach, as a browser names it
CONNECT_TIMEOUT = 3  # seconds: the first socket of a run also opens the Redis connections
RECEIVE_TIMEOUT = 2  # seconds: a snapshot leaves about RESULTS_INTERVAL after the change
QUIET = 0.5  # seconds a socket must stay silent to show that nothing was sent to it


class Sockets:
    """Opens sockets and disconnects every one of them when the test ends, so no count leaks."""

    def __init__(self):
        self.opened: list[WebsocketCommunicator] = []

    def make(
        self, path: str, *, headers=(ORIGIN,), subprotocols=None, scheme: str = "ws", client: str | None = None
    ) -> WebsocketCommunicator:
        """`headers` gain HOST unless they name a host; `scheme` is "wss" for a socket over TLS; `client`
        the address the server resolved (none by default, as the test harness sends none)."""
        headers = list(headers)
        if not any(name == b"host" for name, _value in headers):
            headers.append(HOST)
        communicator = WebsocketCommunicator(application, path, headers=headers, subprotocols=subprotocols)
        communicator.scope["scheme"] = scheme
        if client is not None:
            communicator.scope["client"] = (client, 50000 + len(self.opened))
        self.opened.append(communicator)
        return communicator

    async def open(self, path: str, *, timeout: float = CONNECT_TIMEOUT, **kwargs) -> WebsocketCommunicator:
        """A socket that must be accepted."""
        communicator = self.make(path, **kwargs)
        connected, detail = await communicator.connect(timeout=timeout)
        assert connected, f"{path} was refused with close code {detail}"
        return communicator

    async def refused(self, path: str, *, timeout: float = CONNECT_TIMEOUT, **kwargs) -> int:
        """The close code of a socket that must be refused, at the handshake or right after it."""
        communicator = self.make(path, **kwargs)
        connected, code = await communicator.connect(timeout=timeout)
        if not connected:
            return code
        closing = await communicator.receive_output(timeout=timeout)
        assert closing["type"] == "websocket.close", f"{path} was accepted and sent {closing}"
        return closing["code"]

    async def close_all(self) -> None:
        for communicator in self.opened:
            try:
                await communicator.disconnect()
            except (Exception, asyncio.CancelledError):  # the app stopped already, and the test said why
                pass


def with_origin(*extra: tuple[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    """Headers as a browser on our own site sends them, plus any extra ones."""
    return [ORIGIN, *extra]


def cookie(**values: str) -> tuple[bytes, bytes]:
    return (b"cookie", "; ".join(f"{name}={value}" for name, value in values.items()).encode())


def access_token(user) -> str:
    return str(AccessToken.for_user(user))


async def receive(communicator: WebsocketCommunicator, timeout: float = RECEIVE_TIMEOUT) -> dict:
    return await communicator.receive_json_from(timeout=timeout)


async def receive_until(communicator: WebsocketCommunicator, done, timeout: float = RECEIVE_TIMEOUT) -> list[dict]:
    """Every message up to and including the first for which done(message) holds."""
    received = []
    while True:
        received.append(await communicator.receive_json_from(timeout=timeout))
        if done(received[-1]):
            return received


async def silent(*communicators: WebsocketCommunicator, timeout: float = QUIET) -> bool:
    """Whether none of the sockets receives anything for `timeout` seconds (watched all at once)."""
    quiet = await asyncio.gather(*(communicator.receive_nothing(timeout=timeout) for communicator in communicators))
    return all(quiet)
