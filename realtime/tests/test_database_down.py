"""With the database out of reach, sockets are closed with 4503 (come back soon), not failed with a 500 or 1011."""

import uuid

import pytest
from django.db import OperationalError

from realtime import consumers
from realtime.tests.sockets import receive

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def refuse(*args, **kwargs):
    raise OperationalError("connection refused")


async def refuse_async(*args, **kwargs):
    refuse()


async def test_a_poll_socket_is_closed_with_4503_and_gives_its_place_back(sockets, monkeypatch):
    monkeypatch.setattr("realtime.consumers._load_poll", refuse_async)

    code = await sockets.refused(f"/ws/poll/{uuid.uuid4()}")

    assert code == 4503
    assert consumers.QuickPollConsumer.open_connections == 0


async def test_a_global_socket_whose_first_counters_fail_is_closed_with_4503(sockets, monkeypatch):
    monkeypatch.setattr("realtime.events.stats_message", refuse)

    code = await sockets.refused("/ws/global")

    assert code == 4503
    assert consumers.QuickPollConsumer.open_connections == 0


async def test_a_token_whose_user_cannot_be_looked_up_gets_4503(sockets, monkeypatch, owner):
    monkeypatch.setattr("realtime.auth._user_for_token", refuse_async)

    code = await sockets.refused(f"/ws/user/{owner.pk}?token=any.token.here")

    assert code == 4503


async def test_sockets_work_again_once_the_database_is_back(sockets, monkeypatch):
    with monkeypatch.context() as outage:
        outage.setattr("realtime.events.stats_message", refuse)
        assert await sockets.refused("/ws/global") == 4503

    socket = await sockets.open("/ws/global")

    assert (await receive(socket))["type"] == "stats"
