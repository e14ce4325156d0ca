"""End to end: a real daphne process, a real WebSocket client, votes over real HTTP.

The server runs on its own SQLite file (migrated first). When the test run has
REDIS_URL, the server gets it too, so this also exercises the Redis channel layer.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

BASE_DIR = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30  # seconds for daphne to answer /health
SNAPSHOT_TIMEOUT = 2  # seconds from a vote to its snapshot


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, port: int, log: Path):
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"
        self.log = log

    def request(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.http + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def _wait_until_healthy(process: subprocess.Popen, server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"daphne exited with {process.returncode}:\n{server.log.read_text()}")
        try:
            with urllib.request.urlopen(server.http + "/health", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"daphne did not answer /health within {STARTUP_TIMEOUT} s:\n{server.log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("daphne")
    env = dict(os.environ)
    env |= {
        "DJANGO_SETTINGS_MODULE": "quickpoll.settings",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "RATE_LIMIT_ENABLED": "false",
        "MEDIA_ROOT": str(workdir / "media"),
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr

    port = _free_port()
    log = workdir / "daphne.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "quickpoll.asgi:application"],
            cwd=BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        running = Server(port, log)
        _wait_until_healthy(process, running)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _register(server: Server) -> dict:
    name = f"e2e{uuid.uuid4().hex[:10]}"
    status, body = server.request(
        "POST", "/api/users/register", {"username": name, "email": f"{name}@example.com", "password": "pw-Quick-1234"}
    )
    assert status == 201, body
    return body


def _create_poll(server: Server, token: str) -> dict:
    status, poll = server.request(
        "POST", "/api/polls", {"title": "Which editor?", "options": ["Vim", "Emacs", "Nano"]}, token=token
    )
    assert status == 201, poll
    return poll


def test_a_vote_over_http_reaches_a_websocket_subscriber_within_two_seconds(server):
    author = _register(server)
    poll = _create_poll(server, author["access"])
    emacs = next(option["id"] for option in poll["options"] if option["text"] == "Emacs")

    with connect(f"{server.ws}/ws/poll/{poll['id']}", open_timeout=5) as websocket:
        initial = json.loads(websocket.recv(timeout=SNAPSHOT_TIMEOUT))
        assert initial["type"] == "results"
        assert initial["total_votes"] == 0

        started = time.monotonic()
        status, voted = server.request("POST", "/api/votes", {"poll_id": poll["id"], "option_ids": [emacs]})
        assert status == 201, voted

        snapshot = json.loads(websocket.recv(timeout=SNAPSHOT_TIMEOUT))
        assert time.monotonic() - started < SNAPSHOT_TIMEOUT
        assert snapshot["type"] == "results"
        assert snapshot["poll_id"] == poll["id"]
        assert snapshot["total_votes"] == 1
        assert {option["text"]: option["votes"] for option in snapshot["options"]} == {"Vim": 0, "Emacs": 1, "Nano": 0}
        assert snapshot["version"] > initial["version"]


def test_the_author_hears_of_the_vote_on_their_user_socket(server):
    author = _register(server)
    poll = _create_poll(server, author["access"])
    path = f"{server.ws}/ws/user/{author['user']['id']}"
    vote = {"poll_id": poll["id"], "option_ids": [poll["options"][0]["id"]]}

    with connect(path, subprotocols=["bearer", author["access"]], open_timeout=5) as websocket:
        assert websocket.subprotocol == "bearer"
        status, _ = server.request("POST", "/api/votes", vote)
        assert status == 201

        message = json.loads(websocket.recv(timeout=SNAPSHOT_TIMEOUT))
        assert message["type"] == "notification"
        assert message["notification"]["poll_id"] == poll["id"]


def test_a_page_on_another_site_is_refused_by_the_server(server):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{server.ws}/ws/global", origin="http://evil.example", open_timeout=5)

    assert refused.value.response.status_code == 403


@pytest.mark.parametrize(
    ("path", "code"),
    [(f"/ws/poll/{uuid.uuid4()}", 4404), ("/ws/user/{user_id}?token=not.a.token", 4401), ("/ws/user/{user_id}", 4401)],
    ids=["unknown-poll", "bad-token", "no-credentials"],
)
def test_a_refused_socket_tells_a_real_client_why(server, path, code):
    user = _register(server)["user"]
    path = path.format(user_id=user["id"])

    with connect(server.ws + path, open_timeout=5) as websocket:
        with pytest.raises(ConnectionClosed):
            websocket.recv(timeout=SNAPSHOT_TIMEOUT)

    assert websocket.close_code == code
