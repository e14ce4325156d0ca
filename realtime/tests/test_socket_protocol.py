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


async def open_quiet_socket(sockets, path: str, **kwargs):
    """A socket whose greeting (snapshot or counters, if any) has been read."""
    socket = await sockets.open(path, **kwargs)
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


@pytest.mark.parametrize("kind", SOCKET_KINDS)
async def test_deeply_nested_json_gets_the_invalid_json_error_and_the_socket_stays_open(sockets, path_of, kind):
    socket = await open_quiet_socket(sockets, await path_of(kind))

    for frame in ["[" * 100_000 + "]" * 100_000, '{"a": ' * 50_000 + "1" + "}" * 50_000]:
        await socket.send_to(text_data=frame)
        error = await receive(socket)
        assert error["type"] == "error"
        assert error["code"] == "invalid_json"
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
        "reason": consumers.REASON_SERVER_FULL,
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


async def test_one_address_meets_its_own_cap_and_everyone_else_still_gets_in(sockets, settings):
    settings.WEBSOCKET_MAX_CONNECTIONS = 5
    settings.WEBSOCKET_MAX_CONNECTIONS_PER_ADDRESS = 3
    greedy = [await open_quiet_socket(sockets, "/ws/global", client="203.0.113.7") for _ in range(3)]

    for _ in range(5):
        over = sockets.make("/ws/global", client="203.0.113.7")
        assert (await over.connect(timeout=CONNECT_TIMEOUT))[0]
        assert await over.receive_output(timeout=2) == {
            "type": "websocket.close",
            "code": consumers.CLOSE_TOO_MANY_CONNECTIONS,
            "reason": consumers.REASON_ADDRESS_FULL,
        }
        await over.disconnect()
    # Its refused sockets took no place: two others still fit under the global cap.
    await open_quiet_socket(sockets, "/ws/global", client="198.51.100.1")
    await open_quiet_socket(sockets, "/ws/global", client="198.51.100.2")
    assert consumers.QuickPollConsumer.open_connections == 5
    assert await sockets.refused("/ws/global", client="198.51.100.3") == consumers.CLOSE_TOO_MANY_CONNECTIONS

    await greedy[0].disconnect()
    await open_quiet_socket(sockets, "/ws/global", client="203.0.113.7")  # a freed place counts for it again


async def test_an_ipv6_client_is_counted_by_its_64_and_a_mapped_ipv4_as_ipv4():
    assert consumers.client_address({"client": ("2001:db8:1:2::5", 1)}) == "2001:db8:1:2::/64"
    assert consumers.client_address({"client": ("2001:db8:1:2:ffff::9", 1)}) == "2001:db8:1:2::/64"
    assert consumers.client_address({"client": ("::ffff:203.0.113.7", 1)}) == "203.0.113.7"
    assert consumers.client_address({"client": None}) is None


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
        [(b"origin", b"http://LOCALHOST"), (b"host", b"localhost:80")],
        [(b"origin", b"http://[::1]:8000"), (b"host", b"[::1]:8000")],
    ],
    ids=["no-origin", "127.0.0.1", "localhost-default-port", "ipv6-loopback"],
)
async def test_our_own_pages_and_clients_without_origin_may_open_sockets(sockets, path_of, headers):
    for kind in SOCKET_KINDS:
        await sockets.open(await path_of(kind), headers=headers)


@pytest.mark.parametrize(
    "origin, host, scheme",
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", "wss"),  # a plain-http page on our TLS site
        ("https://127.0.0.1:8000", "127.0.0.1:8000", "ws"),
        ("http://127.0.0.1:9000", "127.0.0.1:8000", "ws"),  # another server on our host
        ("http://127.0.0.1", "127.0.0.1:8000", "ws"),
        ("http://127.0.0.1:8000", "evil.example:8000", "ws"),  # a host we do not serve
    ],
)
async def test_the_origin_must_match_in_scheme_host_and_port(sockets, path_of, origin, host, scheme):
    headers = [(b"origin", origin.encode()), (b"host", host.encode())]
    for kind in SOCKET_KINDS:
        await sockets.refused(await path_of(kind), headers=headers, scheme=scheme)


async def test_over_tls_the_https_origin_with_its_default_port_passes(sockets, path_of):
    headers = [(b"origin", b"https://localhost"), (b"host", b"localhost:443")]
    for kind in SOCKET_KINDS:
        await sockets.open(await path_of(kind), headers=headers, scheme="wss")


async def test_origins_in_csrf_trusted_origins_pass_with_their_own_scheme_and_port(sockets, path_of, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example", "https://*.example.org:8443"]
    for origin in ["https://app.example:443", "https://live.example.org:8443"]:
        await sockets.open(await path_of("global"), headers=[(b"origin", origin.encode())])
    for origin in ["http://app.example", "https://app.example:8443", "https://example.org.evil:8443"]:
        await sockets.refused(await path_of("global"), headers=[(b"origin", origin.encode())])

