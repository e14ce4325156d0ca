"""Fixtures of the WebSocket tests: sockets on the real application, and state reset between tests."""

import asyncio
import gc
import uuid

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.db import connections
from django.test import Client

from realtime import broadcast_loop, events
from realtime.consumers import QuickPollConsumer
from realtime.tests.sockets import Sockets


def _reset_realtime_state() -> None:
    # The connection count, the server's loop, the coalescers' timers and the layer outlive a test's event loop.
    QuickPollConsumer.open_connections = 0
    QuickPollConsumer.open_per_address.clear()
    QuickPollConsumer.accepted.clear()
    QuickPollConsumer.stopping = False
    broadcast_loop._server_loop = None
    for coalescer in (events.results, events.stats):
        coalescer._scheduled.clear()
        coalescer._notes.clear()
        coalescer._since.clear()
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _fresh_realtime_state():
    _reset_realtime_state()
    yield
    _reset_realtime_state()


@pytest.fixture(autouse=True)
def _own_channel_layer_prefix(settings):
    # On a shared Redis, other test runs and servers publish to the same groups ("global" above all).
    layer = settings.CHANNEL_LAYERS["default"]
    if "prefix" in layer.get("CONFIG", {}):
        prefix = f"quickpoll-test-{uuid.uuid4().hex[:8]}"
        settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": {**layer["CONFIG"], "prefix": prefix}}}
        channel_layers.backends.clear()


@pytest.fixture(scope="session", autouse=True)
def _close_database_connections_left_open(django_db_setup, django_db_blocker):
    yield
    # Left open, these would keep PostgreSQL from dropping the test database: connections that sockets and
    # snapshots opened in their own contexts (closed when those are collected), and the one of the long-lived
    # worker thread on which database_sync_to_async runs the tests' own ORM calls.
    gc.collect()
    with django_db_blocker.unblock():
        asyncio.run(database_sync_to_async(connections.close_all)())


@pytest_asyncio.fixture
async def sockets():
    opened = Sockets()
    yield opened
    await opened.close_all()


@pytest.fixture
def session_cookie(transactional_db):
    """The `sessionid` of a browser logged in as the given user."""

    def make(user) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    return make
