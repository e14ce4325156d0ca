"""What the fault scripts share: a QuickPoll server process, the CI services, load, and the database.

The scripts run after .ci/services.sh was sourced (DATABASE_URL, REDIS_URL and the
QUICKPOLL_CI_* variables are set) with the virtualenv's Python. Everything listens on
127.0.0.1, every wait has a deadline, and every process started here is stopped by
the caller's `finally`.
"""

import http.client
import json
import os
import random
import shlex
import signal
import socket
import string
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

if not all(os.environ.get(name) for name in ("DATABASE_URL", "REDIS_URL", "QUICKPOLL_CI_STATE_DIR")):
    sys.exit("source .ci/services.sh first: DATABASE_URL, REDIS_URL and QUICKPOLL_CI_STATE_DIR are needed")

REPO = Path(__file__).resolve().parents[2]
STATE_DIR = Path(os.environ["QUICKPOLL_CI_STATE_DIR"])
WORK_DIR = STATE_DIR / "faults"
PYTHON = sys.executable

STARTUP_TIMEOUT = 30.0  # seconds for a server to answer /health
REQUEST_TIMEOUT = 10.0  # one HTTP request, end to end
SERVICE_TIMEOUT = 20.0  # PostgreSQL or Redis to stop or come back

# The limits are lifted so that one client on 127.0.0.1 can play thousands of voters.
SERVER_ENV = {
    "ENVIRONMENT": "development",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1",
    "RATE_LIMIT_ENABLED": "false",
    "ANONYMOUS_BALLOTS_PER_IP": "1000000",
    "BOT_DEFENCE_ADDRESS_THRESHOLD": "1000000",
    "BOT_DEFENCE_POLL_THRESHOLD": "1000000",
    "LOG_LEVEL": "warning",
}

# Lines a server writes when a request or a socket crashed: each one is a server error.
CRASH_MARKERS = ("Internal Server Error", "Exception inside application")


def say(message: str) -> None:
    print(f"    {message}", flush=True)


# --- The server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_env(extra: dict | None = None) -> dict:
    return {**os.environ, **SERVER_ENV, **(extra or {})}


def migrate() -> None:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput"],
        cwd=REPO,
        env=_server_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py migrate failed:\n{result.stdout}{result.stderr}")


class Server:
    """One bin/production (nginx, bin/http, bin/sockets), as docs/deploy.md describes it,
    with one process of each server: a machine of its own behind a load balancer. command="single":
    bin/single instead, one granian serving HTTP and WebSockets, as on a platform without nginx."""

    def __init__(self, name: str, env: dict | None = None, command: str = "production"):
        self.name = name
        self.command = command
        self.port = free_port()
        self.env = {
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "HTTP_BACKEND_PORT": str(free_port()),
            "SOCKET_BACKEND_PORT": str(free_port()),
            "WEB_CONCURRENCY": "1",
            "SOCKET_CONCURRENCY": "1",
            **(env or {}),
        }
        self.log = WORK_DIR / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return self.env["HOST"]

    @property
    def ws(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def start(self) -> "Server":
        return self.launch().wait_ready()

    def launch(self) -> "Server":
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        with self.log.open("a") as output:
            self.process = subprocess.Popen(
                [str(REPO / "bin" / self.command)],
                cwd=REPO,
                env=_server_env(self.env),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its servers share a process group: one signal reaches all
            )
        return self

    def wait_ready(self) -> "Server":
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            probe = Client(self.port, timeout=2, host=self.host)
            status, _ = probe.request("GET", "/health")
            probe.close()
            if status == 200:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer /health within {STARTUP_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def wait_sockets(self) -> "Server":
        """Until its sockets answer too: /health is the HTTP side's, and the socket processes start apart."""
        if wait_for(lambda: socket_greeting(f"{self.ws}/ws/global/") == "stats", STARTUP_TIMEOUT, interval=0.2):
            return self
        raise RuntimeError(f"{self.name}'s sockets did not answer within {STARTUP_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def _signal(self, number: int) -> None:
        try:
            os.killpg(self.process.pid, number)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL to every process of it: no cleanup, no goodbye, as when its machine dies."""
        if self.process is not None and self.process.poll() is None:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self, timeout: float = 40) -> float:
        """SIGTERM to the launcher alone, as a supervisor stopping it does; the seconds it took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(f"{self.name} still running {timeout:.0f} s after SIGTERM:\n{self.log_tail()}")
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def crashes(self) -> int:
        """Requests or sockets that crashed in this server, from its log."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return 0
        return sum(text.count(marker) for marker in CRASH_MARKERS)


def stop_all(servers) -> None:
    for server in servers:
        try:
            server.stop()
        except Exception as exc:  # keep stopping the others
            print(f"warning: could not stop {server.name}: {exc}", file=sys.stderr)


# --- HTTP -------------------------------------------------------------------------------------

REFUSED = "refused"  # never reached a server: certainly not processed
DROPPED = "dropped"  # sent, but no answer: processed or not, nobody knows


class Client:
    """One keep-alive HTTP/1.1 connection. request() never raises: failures come back as a status string."""

    def __init__(self, port: int, timeout: float = REQUEST_TIMEOUT, host: str = "127.0.0.1"):
        self.port = port
        self.host = host
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        """(status, parsed JSON body or None); status is REFUSED or DROPPED on failure."""
        status, data, _ = self.exchange(method, path, body, headers)
        return status, data

    def exchange(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        """As request(), with the response headers as a third item."""
        all_headers = {"Accept": "application/json", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self.connection.connect()
        except OSError:
            self.close()
            return REFUSED, None, {}
        try:
            self.connection.request(method, path, body=payload, headers=all_headers)
            response = self.connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            return DROPPED, None, {}
        if response.will_close:
            self.close()
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return response.status, data, dict(response.getheaders())


def register_author(client: Client, prefix: str) -> tuple[str, str]:
    """A fresh account: its access token and id."""
    name = f"{prefix}{random_token(8)}".lower()
    account = {"username": name, "email": f"{name}@example.com", "password": "Fault-Tolerant-42"}
    status, body = client.request("POST", "/api/users/register", account)
    if status != 201:
        raise RuntimeError(f"register answered {status}: {body}")
    return body["access"], body["user"]["id"]


def create_polls(client: Client, token: str, count: int, title: str) -> list[dict]:
    polls = []
    for index in range(count):
        status, body = client.request(
            "POST",
            "/api/polls",
            {"title": f"{title} #{index + 1}", "options": ["Red", "Green", "Blue"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        if status != 201:
            raise RuntimeError(f"create poll answered {status}: {body}")
        polls.append(body)
    return polls


def random_token(length: int) -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=length))


# --- Load -------------------------------------------------------------------------------------


@dataclass
class Attempt:
    kind: str  # "vote" or "like"
    poll_id: str
    option_id: str | None
    anon_id: str
    server: str
    started: float
    finished: float = 0.0
    status: int | str = 0
    code: str | None = None
    headers: dict = field(default_factory=dict)

    @property
    def body(self) -> dict:
        if self.kind == "vote":
            return {"poll_id": self.poll_id, "option_ids": [self.option_id]}
        return {"poll_id": self.poll_id}

    @property
    def path(self) -> str:
        return "/api/votes" if self.kind == "vote" else "/api/likes"


class Load:
    """Threads that vote (and like) as fresh anonymous voters until stopped, each voter once.

    `servers` is a list the caller may change while the load runs (a restarted server
    on a new port); thread i sends to servers[i % len] and, when that one refuses the
    connection, to the next one, as a load balancer would.
    """

    def __init__(self, servers: list, polls: list[dict], *, threads: int, like_every: int = 0, name: str = "load"):
        self.servers = servers
        self.polls = polls
        self.threads = threads
        self.like_every = like_every
        self.name = name
        self.attempts: list[Attempt] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    def start(self, max_seconds: float) -> "Load":
        self.deadline = time.monotonic() + max_seconds
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, args=(index,), name=f"{self.name}-{index}", daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=REQUEST_TIMEOUT + 5)

    def _run(self, index: int) -> None:
        clients: dict[int, Client] = {}
        rng = random.Random(index)
        sequence = 0
        while not self._stop.is_set() and time.monotonic() < self.deadline:
            sequence += 1
            poll = self.polls[sequence % len(self.polls)]
            # anon_ids are 16 to 64 of [A-Za-z0-9_-]; this one is unique to the run, thread and attempt.
            anon_id = f"{self.name}-{index:02d}-{sequence:06d}-{random_token(6)}"
            if self.like_every and sequence % self.like_every == 0:
                attempt = Attempt("like", poll["id"], None, anon_id, "", time.monotonic())
            else:
                option = rng.choice(poll["options"])["id"]
                attempt = Attempt("vote", poll["id"], option, anon_id, "", time.monotonic())
            servers = list(self.servers)
            for hop in range(len(servers)):
                server = servers[(index + hop) % len(servers)]
                client = clients.get(server.port)
                if client is None:
                    client = clients[server.port] = Client(server.port, host=server.host)
                send(client, attempt, server.name)
                if attempt.status != REFUSED:
                    break
            with self._lock:
                self.attempts.append(attempt)
            if attempt.status == REFUSED or attempt.status == 503:
                time.sleep(0.1)  # every server refused, or asked to retry later: back off a little
        for client in clients.values():
            client.close()

    def since(self, moment: float) -> list[Attempt]:
        with self._lock:
            return [attempt for attempt in self.attempts if attempt.started >= moment]


def send(client: Client, attempt: Attempt, server_name: str) -> None:
    attempt.server = server_name
    status, body, headers = client.exchange(
        "POST", attempt.path, attempt.body, headers={"X-Anon-Id": attempt.anon_id, "Connection": "keep-alive"}
    )
    attempt.finished = time.monotonic()
    attempt.status = status
    attempt.code = body.get("code") if isinstance(body, dict) else None
    attempt.headers = headers


def wait_for(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def settle(port: int, attempts: list[Attempt], workers: int = 8) -> tuple[list[Attempt], Counter]:
    """Ask again, on the server at `port`, for every attempt without a definite answer (none, or 503).

    The same voter casting the same vote again gets 201 if the first try never
    committed, or 409 already_voted / already_liked if it did. Returns the attempts
    that were counted after all, and how the retries ended.
    """
    pending = [a for a in attempts if a.status == DROPPED or a.status == 503]
    clients: list[Client] = []
    local = threading.local()

    def retry(attempt: Attempt) -> Attempt:
        if not hasattr(local, "client"):
            local.client = Client(port)
            clients.append(local.client)
        again = Attempt(attempt.kind, attempt.poll_id, attempt.option_id, attempt.anon_id, "", time.monotonic())
        send(local.client, again, "settle")
        return again

    try:
        with ThreadPoolExecutor(workers) as pool:
            retries = list(pool.map(retry, pending))
    finally:
        for client in clients:
            client.close()
    outcomes = Counter(f"{r.status} {r.code}" if r.code else str(r.status) for r in retries)
    counted = [a for a, r in zip(pending, retries) if f"{r.status} {r.code}" in SETTLED or r.status == 201]
    return counted, outcomes


SETTLED = {"201", "409 already_voted", "409 already_liked"}  # how a retry may end


def unsettled(outcomes: Counter) -> int:
    """Retries that neither counted nor were refused as already counted."""
    return sum(count for outcome, count in outcomes.items() if outcome not in SETTLED)


def accepted(attempts: list[Attempt], kind: str) -> list[Attempt]:
    return [attempt for attempt in attempts if attempt.kind == kind and attempt.status == 201]


def server_errors(attempts: list[Attempt], *, allowed_503: bool = False) -> list[Attempt]:
    """5xx answers (a 503 only counts where it is not the documented service_unavailable)."""
    return [
        attempt
        for attempt in attempts
        if isinstance(attempt.status, int)
        and attempt.status >= 500
        and not (allowed_503 and attempt.status == 503 and attempt.code == "service_unavailable")
    ]


def describe(attempts: list[Attempt]) -> str:
    counts = Counter(f"{a.kind} {a.status}{' ' + a.code if a.code else ''}" for a in attempts)
    return ", ".join(f"{count} x {label}" for label, count in sorted(counts.items())) or "none"


# --- WebSockets ------------------------------------------------------------------------------------

SOCKET_TIMEOUT = 5.0  # seconds for a socket to open, or to see a snapshot


class Watcher:
    """A /ws/poll subscriber in a thread, recording when each results snapshot arrived."""

    def __init__(self, url: str):
        self.url = url
        self.snapshots: list[float] = []  # monotonic times
        self.closed_with: int | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Watcher":
        self._thread.start()
        if not self._ready.wait(SOCKET_TIMEOUT):
            raise RuntimeError(f"{self.url} did not open")
        return self

    def _run(self) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        with connect(self.url, open_timeout=SOCKET_TIMEOUT) as websocket:
            self._ready.set()
            while not self._stop.is_set():
                try:
                    message = json.loads(websocket.recv(timeout=0.5))
                except TimeoutError:
                    continue
                except ConnectionClosed:
                    self.closed_with = websocket.close_code
                    return
                if message.get("type") == "results":
                    self.snapshots.append(time.monotonic())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def count(self, start: float, end: float = float("inf")) -> int:
        return sum(1 for at in self.snapshots if start <= at < end)


class Follower:
    """A /ws/poll socket in a thread: every total_votes it is sent, and how it was closed. Given a second
    URL, it reconnects there when told 1012 (Service Restart), as the page does through its proxy."""

    def __init__(self, first: str, then: str | None = None):
        self.urls = (first, then) if then else (first,)
        self.close_codes: list = []
        self.totals: list[int] = []  # on the first server
        self.totals_after: list[int] = []  # on the second, after a 1012
        self.failure: str | None = None
        self._opened = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Follower":
        self._thread.start()
        if not self._opened.wait(SOCKET_TIMEOUT):
            raise RuntimeError(f"{self.urls[0]} did not open")
        return self

    def _run(self) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        for attempt, url in enumerate(self.urls):
            try:
                with connect(url, open_timeout=SOCKET_TIMEOUT) as websocket:
                    self._opened.set()
                    while not self._stop.is_set():
                        try:
                            message = json.loads(websocket.recv(timeout=0.2))
                        except TimeoutError:
                            continue
                        except ConnectionClosed:
                            break
                        if message.get("type") == "results":
                            (self.totals_after if attempt else self.totals).append(message["total_votes"])
                    self.close_codes.append(websocket.close_code)
            except Exception as exc:  # reported by the checks, not raised in a thread
                self.failure = f"{url}: {exc.__class__.__name__}: {exc}"
                self._opened.set()
                return
            if self._stop.is_set() or websocket.close_code != 1012:
                return  # the page reconnects elsewhere after a 1012 only

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def socket_greeting(url: str) -> str:
    """What a socket opened now is told first: a message type, "closed <code>" or "rejected <HTTP status>"."""
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    try:
        with connect(url, open_timeout=SOCKET_TIMEOUT) as websocket:
            try:
                return json.loads(websocket.recv(timeout=SOCKET_TIMEOUT)).get("type", "?")
            except ConnectionClosed:
                return f"closed {websocket.close_code}"
    except InvalidStatus as exc:
        return f"rejected {exc.response.status_code}"
    except (OSError, TimeoutError) as exc:
        return f"failed {exc.__class__.__name__}"


def live_snapshots(url: str, timeout: float = SOCKET_TIMEOUT) -> int:
    """Open a socket, read its snapshot, and count the newer ones (up to 3) arriving within `timeout`."""
    from websockets.sync.client import connect

    with connect(url, open_timeout=SOCKET_TIMEOUT) as websocket:
        initial = json.loads(websocket.recv(timeout=SOCKET_TIMEOUT))
        if initial.get("type") != "results":
            return 0
        newer = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and newer < 3:
            try:
                message = json.loads(websocket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            except TimeoutError:
                break
            if message.get("type") == "results" and message["version"] > initial["version"]:
                newer += 1
        return newer


# --- The database, read through the ORM ---------------------------------------------------------


def django_setup() -> None:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickpoll.settings")
    for name, value in SERVER_ENV.items():
        os.environ.setdefault(name, value)
    import django

    django.setup()


def check_counts(polls: list[dict], votes: list[Attempt], likes: list[Attempt]) -> tuple[list[str], dict]:
    """Compare what the clients were told was accepted with what the database holds, poll by poll.

    Returns the problems found and totals: `lost` (accepted, not in the database),
    `unacknowledged` (in the database, never accepted) and `double` (counters that
    disagree with the rows).
    """
    from django.db import connection
    from django.db.models import Sum

    from polls.models import Ballot, Like, Option, Poll, Vote

    connection.close()  # the script's own connection may predate a restart
    problems: list[str] = []
    totals = Counter()
    for poll_data in polls:
        poll = Poll.objects.get(pk=poll_data["id"])
        want_votes = {a.anon_id for a in votes if a.poll_id == poll_data["id"]}
        want_likes = {a.anon_id for a in likes if a.poll_id == poll_data["id"]}
        ballots = set(Ballot.objects.filter(poll=poll).values_list("anon_id", flat=True))
        liked = set(Like.objects.filter(poll=poll).values_list("anon_id", flat=True))
        vote_rows = Vote.objects.filter(poll=poll).count()
        option_sum = Option.objects.filter(poll=poll).aggregate(total=Sum("vote_count"))["total"] or 0

        lost = want_votes - ballots
        extra = ballots - want_votes
        lost_likes = want_likes - liked
        extra_likes = liked - want_likes
        totals["accepted_votes"] += len(want_votes)
        totals["accepted_likes"] += len(want_likes)
        totals["lost"] += len(lost) + len(lost_likes)
        totals["unacknowledged"] += len(extra) + len(extra_likes)
        counters = (poll.total_votes, option_sum, vote_rows, len(ballots), len(want_votes))
        say(
            f"poll {poll.title!r}: total_votes={poll.total_votes} sum(vote_count)={option_sum} Vote rows={vote_rows} "
            f"Ballot rows={len(ballots)} accepted votes={len(want_votes)}; likes_count={poll.likes_count} "
            f"Like rows={len(liked)} accepted likes={len(want_likes)}"
        )
        if len(set(counters)) != 1:
            totals["double"] += max(counters) - min(counters)
            problems.append(
                f"poll {poll.pk}: total_votes={poll.total_votes} sum(vote_count)={option_sum} "
                f"Vote rows={vote_rows} Ballot rows={len(ballots)} accepted={len(want_votes)}"
            )
        if poll.likes_count != len(liked) or len(liked) != len(want_likes):
            totals["double"] += abs(poll.likes_count - len(liked))
            problems.append(
                f"poll {poll.pk}: likes_count={poll.likes_count} Like rows={len(liked)} accepted={len(want_likes)}"
            )
        if lost or lost_likes:
            problems.append(f"poll {poll.pk}: {len(lost)} accepted votes and {len(lost_likes)} likes missing")
        if extra or extra_likes:
            problems.append(f"poll {poll.pk}: {len(extra)} votes and {len(extra_likes)} likes never accepted")
    connection.close()
    return problems, totals


# --- PostgreSQL and Redis, as started by .ci/services.sh ------------------------------------------


def _as_pg_user(command: list[str]) -> list[str]:
    user = os.environ.get("QUICKPOLL_CI_PG_USER", "")
    if os.geteuid() == 0 and user and user != "root":
        return ["runuser", "-u", user, "--", *command]
    return command


def _pgdata() -> Path:
    return STATE_DIR / "pgdata"


def _pg_ctl(*args: str) -> subprocess.CompletedProcess:
    pg_ctl = str(Path(os.environ["QUICKPOLL_CI_PG_BIN"]) / "pg_ctl")
    # cwd: the PostgreSQL user may not be allowed into ours.
    return subprocess.run(
        _as_pg_user([pg_ctl, "-D", str(_pgdata()), *args]),
        cwd=STATE_DIR,
        capture_output=True,
        text=True,
        timeout=SERVICE_TIMEOUT + 10,
    )


def postgres_options() -> str:
    """The server options services.sh started PostgreSQL with, as recorded in postmaster.opts."""
    recorded = shlex.split((_pgdata() / "postmaster.opts").read_text())
    options, skip = [], False
    for word in recorded[1:]:  # [0] is the postgres binary
        if skip:
            skip = False
        elif word == "-D":
            skip = True
        else:
            options.append(word)
    return shlex.join(options)


def postgres_stop() -> None:
    result = _pg_ctl("-m", "fast", "-w", "-t", str(int(SERVICE_TIMEOUT)), "stop")
    if result.returncode != 0:
        raise RuntimeError(f"pg_ctl stop failed: {result.stdout}{result.stderr}")


def postgres_start(options: str) -> None:
    log = STATE_DIR / "postgresql.log"
    result = _pg_ctl("-w", "-t", str(int(SERVICE_TIMEOUT)), "-o", options, "-l", str(log), "start")
    if result.returncode != 0:
        raise RuntimeError(f"pg_ctl start failed: {result.stdout}{result.stderr}")


def postgres_running() -> bool:
    return _pg_ctl("status").returncode == 0


def redis_port() -> int:
    from urllib.parse import urlsplit

    return urlsplit(os.environ["REDIS_URL"]).port or 6379


def redis_ping() -> bool:
    result = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(redis_port()), "ping"], capture_output=True, text=True, timeout=5
    )
    return result.stdout.strip() == "PONG"


def redis_stop() -> None:
    subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(redis_port()), "shutdown", "nosave"],
        capture_output=True,
        timeout=10,
    )
    if not wait_for(lambda: not _port_open(redis_port()), SERVICE_TIMEOUT):
        raise RuntimeError("Redis still listening after shutdown")


def redis_start() -> None:
    """Start Redis again exactly as .ci/services.sh did, so quickpoll_services_stop still finds it."""
    port = redis_port()
    subprocess.run(
        [
            "redis-server", "--bind", "127.0.0.1", "--port", str(port), "--daemonize", "yes",
            "--save", "", "--appendonly", "no", "--dir", str(STATE_DIR),
            "--pidfile", str(STATE_DIR / "redis.pid"), "--logfile", str(STATE_DIR / "redis.log"),
        ],
        check=True,
        capture_output=True,
        timeout=10,
    )  # fmt: skip
    if not wait_for(redis_ping, SERVICE_TIMEOUT, interval=0.2):
        raise RuntimeError("Redis did not answer PING after restart")


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


# --- The verdict ----------------------------------------------------------------------------------


def run(main, title: str) -> None:
    """Run a fault script's main(); if it breaks off, its summary line still says so. Exits."""
    # `timeout` (run_all.sh) sends SIGTERM: unwind through the finally blocks, which stop the
    # servers and bring PostgreSQL and Redis back; a second SIGTERM must not cut that short.
    def unwind(*_):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sys.exit(143)

    signal.signal(signal.SIGTERM, unwind)
    try:
        status = main()
    except SystemExit as exc:
        status = finish(f"faults: {title}: did not complete", [f"stopped by a signal (exit status {exc.code})"])
    except BaseException as exc:
        traceback.print_exc()
        status = finish(f"faults: {title}: did not complete", [f"{exc.__class__.__name__}: {exc}"])
    sys.exit(status)


def finish(line: str, problems: list[str]) -> int:
    """Print the problems and the one summary line (also appended to the CI summary); the exit status."""
    for problem in problems:
        print(f"FAIL: {problem}", flush=True)
    if problems:
        print(f"(server logs in {WORK_DIR})", flush=True)
        line += " -- FAILED"
    print(line, flush=True)
    summary = os.environ.get("QUICKPOLL_CI_SUMMARY")
    if summary:
        with open(summary, "a") as out:
            out.write(line + "\n")
    return 1 if problems else 0
