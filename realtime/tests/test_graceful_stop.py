"""A server process that stops gracefully tells every socket to reconnect elsewhere: 1012 (Service Restart)."""

import asyncio

import pytest
from asgiref.testing import ApplicationCommunicator

from quickpoll.asgi import application
from realtime.consumers import CLOSE_SERVICE_RESTART, QuickPollConsumer
from realtime.tests.actions import make_poll
from realtime.tests.sockets import receive

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def start_lifespan() -> ApplicationCommunicator:
    lifespan = ApplicationCommunicator(application, {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}})
    await lifespan.send_input({"type": "lifespan.startup"})
    assert await lifespan.receive_output(timeout=2) == {"type": "lifespan.startup.complete"}
    return lifespan


async def test_shutdown_closes_every_open_socket_with_service_restart(sockets, owner):
    lifespan = await start_lifespan()
    poll = await make_poll(author=owner)
    opened = [await sockets.open(f"/ws/poll/{poll.pk}") for _ in range(3)] + [await sockets.open("/ws/global")]
    for socket in opened:
        await receive(socket)  # the greeting: a snapshot, or the counters

    await lifespan.send_input({"type": "lifespan.shutdown"})

    for socket in opened:
        closing = await socket.receive_output(timeout=2)
        assert (closing["type"], closing["code"]) == ("websocket.close", CLOSE_SERVICE_RESTART)
        await socket.disconnect(code=CLOSE_SERVICE_RESTART)  # the client answers the close frame
    # The server stops once every client has answered, not at its timeout.
    assert await lifespan.receive_output(timeout=2) == {"type": "lifespan.shutdown.complete"}
    assert QuickPollConsumer.open_connections == 0


async def test_a_socket_opened_while_stopping_is_sent_on_at_once(sockets, owner):
    lifespan = await start_lifespan()
    poll = await make_poll(author=owner)
    await lifespan.send_input({"type": "lifespan.shutdown"})
    assert await lifespan.receive_output(timeout=2) == {"type": "lifespan.shutdown.complete"}

    assert await sockets.refused(f"/ws/poll/{poll.pk}") == CLOSE_SERVICE_RESTART
    assert QuickPollConsumer.open_connections == 0


async def test_shutdown_waits_for_requests_in_flight(sockets):
    lifespan = await start_lifespan()
    request = ApplicationCommunicator(
        application,
        {"type": "http", "method": "GET", "path": "/health", "headers": [(b"host", b"127.0.0.1:8000")],
         "query_string": b"", "asgi": {"version": "3.0"}},
    )  # fmt: skip
    # The request has started and waits for its body: the stop must not finish before it does.
    await asyncio.sleep(0.1)
    assert not request.future.done(), request.future.exception()
    await lifespan.send_input({"type": "lifespan.shutdown"})
    assert await lifespan.receive_nothing(timeout=0.3)

    await request.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await request.receive_output(timeout=5)
    assert start["type"] == "http.response.start"
    await request.receive_output(timeout=5)
    assert await lifespan.receive_output(timeout=2) == {"type": "lifespan.shutdown.complete"}
