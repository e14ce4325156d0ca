"""bin/sockets' per-message compression (realtime.deflate): a message is compressed once per process, not per
socket, and every client still reads it, through a real uvicorn and real clients."""

import json
import socket
import threading
import time
import zlib

import pytest
import uvicorn
from websockets.frames import TEXT, Frame
from websockets.sync.client import connect

from realtime import deflate

SNAPSHOT = json.dumps({"type": "results", "html": "<li>Option</li>" * 200})


async def broadcast_app(scope, receive, send):
    """Sends every socket the same long snapshot, then a short message, then waits for the client to leave."""
    assert scope["type"] == "websocket"
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": SNAPSHOT})
    await send({"type": "websocket.send", "text": '{"type":"pong"}'})
    while (await receive())["type"] != "websocket.disconnect":
        pass


@pytest.fixture
def server_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        broadcast_app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", ws="realtime.deflate:WebSocketProtocol"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield f"ws://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=5)


def test_every_client_reads_the_snapshot_compressed_once_for_all(server_url, monkeypatch):
    compressions = []
    real_compressobj = zlib.compressobj
    monkeypatch.setattr(deflate.zlib, "compressobj", lambda **kw: compressions.append(kw) or real_compressobj(**kw))
    deflate._compressed.clear()

    for _ in range(5):
        with connect(server_url) as client:  # websockets offers permessage-deflate, as browsers do
            agreed = client.response.headers["Sec-WebSocket-Extensions"]
            assert "permessage-deflate" in agreed and "server_no_context_takeover" in agreed
            assert "client_no_context_takeover" in agreed
            assert client.recv() == SNAPSHOT
            assert client.recv() == '{"type":"pong"}'

    assert len(compressions) == 1  # five sockets, one compression


def test_a_client_that_offers_no_compression_reads_plain_frames(server_url):
    with connect(server_url, compression=None) as client:
        assert "Sec-WebSocket-Extensions" not in client.response.headers
        assert client.recv() == SNAPSHOT


def test_short_messages_go_uncompressed_and_long_ones_shrink():
    short, long = b'{"type":"pong"}', SNAPSHOT.encode()
    extension = deflate.SharedDeflate(True, True, 15, 15)
    assert extension.encode(Frame(TEXT, short)).rsv1 is False
    frame = extension.encode(Frame(TEXT, long))
    assert frame.rsv1 is True and len(frame.data) < len(long) / 10
    assert zlib.decompressobj(wbits=-15).decompress(frame.data + b"\x00\x00\xff\xff") == long
