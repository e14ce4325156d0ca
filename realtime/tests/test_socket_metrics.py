"""Open sockets and broadcast lag, as /metrics reports them: moved where the socket is counted and the snapshot sent."""

import asyncio
import time

import pytest
from prometheus_client import REGISTRY

from realtime import consumers
from realtime.tests.actions import make_poll, visitor, vote
from realtime.tests.sockets import receive, receive_until

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def value(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_open_sockets_follow_connects_and_disconnects(sockets, owner):
    poll = await make_poll(author=owner)
    before = value("quickpoll_websockets_open")

    first = await sockets.open(f"/ws/poll/{poll.pk}")
    second = await sockets.open("/ws/global")
    assert value("quickpoll_websockets_open") == before + 2

    await first.disconnect()
    await asyncio.sleep(0.05)  # the consumer's disconnect runs on the loop after the client leaves
    assert value("quickpoll_websockets_open") == before + 1
    await second.disconnect()
    await asyncio.sleep(0.05)
    assert value("quickpoll_websockets_open") == before


async def test_a_refused_socket_leaves_the_count_as_it_was(sockets):
    before = value("quickpoll_websockets_open")

    await sockets.refused("/ws/nothing-here")
    await sockets.close_all()

    assert value("quickpoll_websockets_open") == before


async def test_a_snapshot_sent_after_a_vote_observes_its_lag_from_the_commit(sockets, owner, monkeypatch):
    monkeypatch.setattr(consumers, "BROADCAST_LAG_SAMPLE", 1.0)  # every send, not one in ten
    poll = await make_poll(author=owner)
    watchers = [await sockets.open(f"/ws/poll/{poll.pk}") for _ in range(2)]
    for socket in watchers:
        assert (await receive(socket))["type"] == "results"  # on connect: no change behind it, no lag observed
    count, total = value("quickpoll_broadcast_lag_seconds_count"), value("quickpoll_broadcast_lag_seconds_sum")
    started = time.time()

    await vote(poll, visitor(1), "Green")
    for socket in watchers:
        await receive_until(socket, lambda message: message["type"] == "results" and message["total_votes"] == 1)

    # One observation per socket sent to, each no longer than the whole wait.
    assert value("quickpoll_broadcast_lag_seconds_count") == count + 2
    lags = value("quickpoll_broadcast_lag_seconds_sum") - total
    assert 0 < lags <= 2 * (time.time() - started)


async def test_one_send_in_ten_is_timed(sockets, owner, monkeypatch):
    draws = iter([0.05, 0.5, 0.95])
    monkeypatch.setattr(consumers.random, "random", lambda: next(draws, 0.5))
    poll = await make_poll(author=owner)
    watchers = [await sockets.open(f"/ws/poll/{poll.pk}") for _ in range(3)]
    for socket in watchers:
        await receive(socket)
    count = value("quickpoll_broadcast_lag_seconds_count")

    await vote(poll, visitor(1), "Green")
    for socket in watchers:
        await receive_until(socket, lambda message: message["type"] == "results" and message["total_votes"] == 1)

    assert value("quickpoll_broadcast_lag_seconds_count") == count + 1


async def test_sockets_over_a_cap_are_counted_under_the_cap_they_met(sockets, settings):
    settings.WEBSOCKET_MAX_CONNECTIONS = 2
    settings.WEBSOCKET_MAX_CONNECTIONS_PER_ADDRESS = 1
    address_cap = REGISTRY.get_sample_value("quickpoll_rate_limit_refusals_total", {"rule": "websocket-address"}) or 0
    server_cap = REGISTRY.get_sample_value("quickpoll_rate_limit_refusals_total", {"rule": "websocket-server"}) or 0

    await sockets.open("/ws/global", client="203.0.113.7")
    assert await sockets.refused("/ws/global", client="203.0.113.7") == consumers.CLOSE_TOO_MANY_CONNECTIONS
    await sockets.open("/ws/global", client="198.51.100.1")
    assert await sockets.refused("/ws/global", client="198.51.100.2") == consumers.CLOSE_TOO_MANY_CONNECTIONS

    assert REGISTRY.get_sample_value("quickpoll_rate_limit_refusals_total", {"rule": "websocket-address"}) == address_cap + 1
    assert REGISTRY.get_sample_value("quickpoll_rate_limit_refusals_total", {"rule": "websocket-server"}) == server_cap + 1
