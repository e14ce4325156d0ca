"""With the channel layer unreachable (Redis down), votes and likes still count; only live updates stop."""

import logging
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from rest_framework.test import APIClient

from polls import services
from polls.tests.factories import PollFactory, like_counts, pick, vote_counts
from polls.voters import Voter
from realtime.tests.actions import make_poll, visitor, vote
from realtime.tests.sockets import receive, silent

# A Redis that refuses connections: nothing listens on port 1.
UNREACHABLE_LAYER = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0", "socket_connect_timeout": 2}], "prefix": "quickpoll"},
    }
}


@pytest.fixture
def redis_down(settings, caplog):
    settings.CHANNEL_LAYERS = UNREACHABLE_LAYER
    channel_layers.backends.clear()  # get_channel_layer() caches the layer it built from the old setting
    caplog.set_level(logging.WARNING, logger="realtime.events")
    yield
    channel_layers.backends.clear()


def skipped_broadcasts(caplog) -> list[str]:
    """What realtime.events logged about broadcasts it could not make."""
    return [record.getMessage() for record in caplog.records if record.name == "realtime.events"]


@pytest.mark.django_db(transaction=True)  # so that on_commit broadcasts run, and fail
def test_a_vote_is_counted_and_announced_nowhere(redis_down, caplog, owner, other_user):
    poll = PollFactory(author=owner)

    started = time.monotonic()
    cast = services.cast_vote(poll=poll, voter=Voter(user=other_user), option_ids=pick(poll, "Green"))
    took = time.monotonic() - started

    assert cast.ballot.pk is not None
    assert vote_counts(poll) == (1, 1, 1)
    assert took < 2, "a refused connection must not hold the vote"
    assert skipped_broadcasts(caplog), "the broadcasts were tried and failed quietly"


@pytest.mark.django_db(transaction=True)
def test_a_rest_vote_and_like_answer_201(redis_down, caplog, owner):
    poll = PollFactory(author=owner)
    client = APIClient()
    red = str(pick(poll, "Red")[0])

    voted = client.post("/api/votes", {"poll_id": str(poll.pk), "option_ids": [red]}, format="json")
    liked = client.post("/api/likes", {"poll_id": str(poll.pk)}, format="json")

    assert voted.status_code == 201, voted.content
    assert voted.json()["results"]["total_votes"] == 1
    assert liked.status_code == 201, liked.content
    assert vote_counts(poll) == (1, 1, 1)
    assert like_counts(poll) == (1, 1)
    assert skipped_broadcasts(caplog)


@pytest.mark.django_db(transaction=True)
def test_health_reports_degraded_but_answers_200(redis_down, client):
    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["channel_layer"]["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_poll_socket_still_opens_with_its_snapshot_and_votes_still_count(redis_down, sockets, owner):
    poll = await make_poll(author=owner)
    await vote(poll, visitor(1))

    socket = await sockets.open(f"/ws/poll/{poll.pk}")

    message = await receive(socket)
    assert message["type"] == "results"
    assert message["total_votes"] == 1
    # With the socket's loop registered, the snapshot of the next vote is scheduled, and fails quietly.
    await vote(poll, visitor(2))
    assert await database_sync_to_async(vote_counts)(poll) == (2, 2, 2)
    assert await silent(socket)
    await socket.send_json_to({"type": "ping"})
    assert (await receive(socket))["type"] == "pong"
