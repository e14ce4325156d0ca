"""What every socket shares: ping and pong, bad frames, heartbeats, the connection cap and the Origin check."""

from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from realtime import consumers
from realtime.tests.actions import make_poll
from realtime.tests.sockets import CONNECT_TIMEOUT, access_token, receive

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

SOCKET_KINDS = ["poll", "user", "global"]


@pytest.fixture
def path_of(owner):
    """The path of a socket of each kind that `owner` may open."""

    async def make(kind: str) -> str:
        if kind == "poll":
            return f"/ws/poll/{(await make_poll(author=owner)).pk}"
        if kind == "user":
            return f"/ws/user/{owner.pk}?token={access_token(owner)}"
        return "/ws/global"

    return make


async def open_quiet_socket(sockets, path: str):
    """A socket whose greeting (snapshot or counters, if any) has been read."""
    socket = await sockets.open(path)
    if not path.startswith("/ws/user/"):
        await receive(socket)
    return socket


@pytest.mark.parametrize("kind", SOCKET_KINDS)
async def test_ping_is_answered_with_pong(sockets, path_of, kind):
    socket = await open_quiet_socket(sockets, await path_of(kind))

    await socket.send_json_to({"type": "ping"})

    pong = await receive(socket)
    assert pong["type"] == "pong"
    assert pong["server_time"]


@pytest.mark.parametrize("kind", SOCKET_KINDS)
async def test_bad_frames_get_an_error_and_the_socket_stays_open(sockets, path_of, kind):
    socket = await open_quiet_socket(sockets, await path_of(kind))

    for frame, code in [
        ("{not json", "invalid_json"),
        ('{"type": "subscribe"}', "unknown_type"),
        ("[1, 2]", "unknown_type"),
        ("{}", "unknown_type"),
        ('"ping"', "unknown_type"),
    ]:
        await socket.send_to(text_data=frame)
        error = await receive(socket)
        assert error["type"] == "error", frame
        assert error["code"] == code, frame
        assert error["detail"]

    await socket.send_json_to({"type": "ping"})
    assert (await receive(socket))["type"] == "pong"


async def test_binary_frames_are_read_as_json_too(sockets, path_of):
    socket = await open_quiet_socket(sockets, await path_of("global"))

    await socket.send_to(bytes_data=b'{"type": "ping"}')
    assert (await receive(socket))["type"] == "pong"
    await socket.send_to(bytes_data=b"\xff\xfe")
    assert (await receive(socket))["code"] == "invalid_json"


async def test_a_heartbeat_arrives_every_interval(sockets, settings, path_of):
    settings.WEBSOCKET_HEARTBEAT_INTERVAL = 1
    socket = await open_quiet_socket(sockets, await path_of("global"))

    heartbeat = await receive(socket, timeout=2)

    assert heartbeat["type"] == "heartbeat"
    assert heartbeat["server_time"]


@pytest.mark.parametrize("kind", SOCKET_KINDS)
async def test_an_expired_or_invalid_token_is_refused_with_4401_on_every_socket(sockets, path_of, owner, kind):
    path = (await path_of(kind)).split("?")[0]
    expired = AccessToken.for_user(owner)
    expired.set_exp(lifetime=-timedelta(minutes=1))

    for token in (str(expired), "not.a.token"):
        assert await sockets.refused(f"{path}?token={token}") == consumers.CLOSE_UNAUTHENTICATED
    assert await sockets.refused(path, subprotocols=["bearer", "not.a.token"]) == consumers.CLOSE_UNAUTHENTICATED


# --- The connection cap ------------------------------------------------------------------------


async def test_a_socket_over_the_cap_is_closed_with_4429_until_a_place_frees_up(sockets, settings):
    settings.WEBSOCKET_MAX_CONNECTIONS = 2
    first = await open_quiet_socket(sockets, "/ws/global")
    await open_quiet_socket(sockets, "/ws/global")

    over = sockets.make("/ws/global")
    connected, _ = await over.connect(timeout=CONNECT_TIMEOUT)
    assert connected  # accepted so that the close code reaches the browser
    assert await over.receive_output(timeout=2) == {
        "type": "websocket.close",
        "code": consumers.CLOSE_TOO_MANY_CONNECTIONS,
    }
    await over.disconnect()
    assert consumers.QuickPollConsumer.open_connections == 2

    await first.disconnect()
    again = await sockets.open("/ws/global")
    assert (await receive(again))["type"] == "stats"


async def test_refused_and_closed_sockets_give_their_place_back(sockets, settings, owner):
    settings.WEBSOCKET_MAX_CONNECTIONS = 1
    poll = await make_poll(author=owner)

    for _ in range(3):
        assert await sockets.refused(f"/ws/user/{owner.pk}") == consumers.CLOSE_UNAUTHENTICATED
        await sockets.opened[-1].disconnect()
        socket = await open_quiet_socket(sockets, f"/ws/poll/{poll.pk}")
        await socket.disconnect()

    assert consumers.QuickPollConsumer.open_connections == 0


# --- The Origin check ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "https://127.0.0.1.evil.example", "http://localhost.evil.example:8000", "null", ""],
)
async def test_a_page_on_another_site_cannot_open_a_socket(sockets, path_of, origin):
    for kind in SOCKET_KINDS:
        await sockets.refused(await path_of(kind), headers=[(b"origin", origin.encode())])

    assert consumers.QuickPollConsumer.open_connections == 0


@pytest.mark.parametrize(
    "headers",
    [
        [],  # scripts and apps send no Origin at all
        [(b"origin", b"http://127.0.0.1:8000")],
        [(b"origin", b"https://localhost")],
        [(b"origin", b"http://[::1]:8000")],
    ],
    ids=["no-origin", "127.0.0.1", "localhost", "ipv6-loopback"],
)
async def test_our_own_pages_and_clients_without_origin_may_open_sockets(sockets, path_of, headers):
    for kind in SOCKET_KINDS:
        await sockets.open(await path_of(kind), headers=headers)

