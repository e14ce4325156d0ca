"""The benchmark's WebSocket measurements: live results fan-out, idle connections, delivery across servers.

Subscribers live in child processes (started with `python -c`, not forked: the orchestrator's
loop, threads and Django stay out of them), each on its own uvloop. Receiving thousands of
snapshots then neither delays the votes this process casts nor is delayed by them, and two
children use both cores of a small machine. Parent and children speak JSON lines over the
children's stdin and stdout.

A subscriber is a bare asyncio.Protocol speaking just enough RFC 6455 (and permessage-deflate,
as browsers do) to receive: no task, future or queue per message, and no json.loads of the
HTML it carries. Measured at 1,000 subscribers and 5 snapshots/s, a child spent 0.10 of a core
with the `websockets` client and 0.05 with this; at 5,000 subscribers the difference is a
core's worth on a machine the server shares.

Every wait is bounded; a child whose parent goes away reads end-of-file and exits.
"""

import asyncio
import base64
import hashlib
import json
import math
import os
import random
import re
import resource
import statistics
import sys
import time
import zlib
from array import array
from collections import Counter
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

SUBSCRIBER_PROCESSES = 2  # children that hold the fan-out's sockets
OPEN_CONCURRENCY = 200  # handshakes in flight at once, over all children
OPEN_TIMEOUT = 30.0  # one socket: handshake and its first snapshot
OPEN_PHASE_TIMEOUT = 300.0  # all sockets
SETTLE_TIMEOUT = 5.0  # after the last vote, for every subscriber to show the committed total
CLOSE_TIMEOUT = 15.0  # closing all sockets; what is left is aborted
IDLE_SETTLE = 2.0  # before reading the server's RSS with the sockets open
VOTE_CONNECTIONS = 32  # at most, for casting votes; opened as the rate needs them
VOTE_TIMEOUT = 10.0  # one vote request
CROSS_TIMEOUT = 5.0  # for the vote cast on b to show on a
REVEAL_TIMEOUT = 10.0  # after the presenter's reveal, for every audience socket to get the results
CLOSE_TOO_MANY_CONNECTIONS = 4429  # realtime.consumers: the server process's cap is reached
# Browsers offer permessage-deflate and the server accepts it, so a real subscriber costs the
# server one compression per message; the benchmark's subscribers do the same.
COMPRESSION = "deflate"
_PIPE_LIMIT = 1 << 28  # the largest line a child may send (its latencies)
_REPO = Path(__file__).resolve().parent.parent
_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_DEFLATE_TAIL = b"\x00\x00\xff\xff"  # RFC 7692: removed by the sender, put back before inflating


# --- The subscribers' side (in a child process) --------------------------------------------------


class _NotOpened(Exception):
    """The handshake was answered with an error, or the socket closed before its first snapshot."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Subscriber(asyncio.Protocol):
    """One subscriber socket: the handshake, then the server's frames, handled as they arrive."""

    def __init__(self, tally: "_Subscribers", request: bytes, key: bytes):
        self.tally = tally
        self.request = request
        self.accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest())
        self.first: asyncio.Future = asyncio.get_running_loop().create_future()  # the snapshot on connect
        self.transport = None
        self.buffer = bytearray()
        self.upgraded = False
        self.inflater = None
        self.inflate_bits = 15
        self.fresh_inflater = False  # server_no_context_takeover: each message stands alone
        self.fragments: list[bytes] = []
        self.compressed = False
        self.total = -1  # total_votes of the newest version seen
        self.version = -1
        self.count = 0  # results messages after the first snapshot
        self.changed_at = 0.0  # when `total` last changed (time.time())
        self.hidden = False  # opened on results_hidden: counts arrive once they may be seen
        self.revealed_at = 0.0  # when a hidden socket received its first results (time.time())
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc):
        self.closed = True
        if not self.first.done():
            self.first.set_exception(ConnectionError(f"connection lost: {exc or 'closed by the server'}"))
        elif not self.tally.closing:
            self.tally.dropped += 1

    def data_received(self, data):
        now = time.time()
        if self.transport.is_closing():
            return
        buffer = self.buffer
        buffer += data
        if not self.upgraded and not self._upgrade():
            return
        position = 0
        size = len(buffer)
        while size - position >= 2:
            head, length = buffer[position], buffer[position + 1] & 0x7F
            start = position + 2
            if length == 126:
                if size - start < 2:
                    break
                length = int.from_bytes(buffer[start : start + 2], "big")
                start += 2
            elif length == 127:
                if size - start < 8:
                    break
                length = int.from_bytes(buffer[start : start + 8], "big")
                start += 8
            end = start + length
            if end > size:
                break
            self._frame(head, bytes(buffer[start:end]), now)
            position = end
        if position:
            del buffer[:position]

    def _upgrade(self) -> bool:
        """Reads the handshake's answer; False while it is incomplete or when it is a refusal."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[: end + 4]
        status = lines[0].split(" ", 2)[1]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status != "101" or headers.get("sec-websocket-accept", "").encode() != self.accept:
            self._fail(_NotOpened(f"http {status}"))
            self.transport.close()
            return False
        extension = headers.get("sec-websocket-extensions", "")
        if extension.startswith("permessage-deflate"):
            for parameter in extension.split(";")[1:]:
                name, _, value = parameter.strip().partition("=")
                if name == "server_max_window_bits" and value:
                    self.inflate_bits = int(value)
                elif name == "server_no_context_takeover":
                    self.fresh_inflater = True
            self.inflater = zlib.decompressobj(-self.inflate_bits)
        self.upgraded = True
        return True

    def _frame(self, head: int, payload: bytes, now: float):
        opcode = head & 0x0F
        if opcode in (0x1, 0x2, 0x0):  # text, binary, continuation
            if opcode:
                self.fragments = [payload]
                self.compressed = bool(head & 0x40)
            else:
                self.fragments.append(payload)
            if not head & 0x80:  # more fragments follow
                return
            message = self.fragments[0] if len(self.fragments) == 1 else b"".join(self.fragments)
            self.fragments = []
            if self.compressed:
                if self.fresh_inflater:
                    self.inflater = zlib.decompressobj(-self.inflate_bits)
                message = self.inflater.decompress(message + _DEFLATE_TAIL)
            self._message(message, now)
        elif opcode == 0x8:  # close: answer it, then hang up
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self._send(0x8, payload[:2])
            self.transport.close()
            self._fail(_NotOpened("refused" if code == CLOSE_TOO_MANY_CONNECTIONS else f"close {code}"))
        elif opcode == 0x9:  # ping
            self._send(0xA, payload)

    def _message(self, text: bytes, now: float):
        if not self.first.done():
            self.first.set_result(json.loads(text))
            return
        snapshot = _snapshot(text)
        if snapshot is None:
            return  # heartbeats
        version, total, stamp, basis = snapshot
        if self.hidden and not self.revealed_at:
            self.revealed_at = now
        self.count += 1
        if version > self.version:  # snapshots may overtake each other
            self.version = version
            if total != self.total:
                self.total, self.changed_at = total, now
        self.tally.stamped(stamp, basis, now)

    def _send(self, opcode: int, payload: bytes):
        if self.transport.is_closing():
            return
        mask = os.urandom(4)  # clients must mask what they send (control frames: at most 125 bytes)
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + _masked(payload, mask))

    def _fail(self, error: Exception):
        if not self.first.done():
            self.first.set_exception(error)

    def close(self):
        """Starts the closing handshake; the server's answer (or CLOSE_TIMEOUT) ends the connection."""
        if not self.closed:
            self._send(0x8, (1000).to_bytes(2, "big"))


class _Subscribers:
    """The sockets of one child process and what they received."""

    def __init__(self):
        self.sockets: list[_Subscriber] = []
        self.latencies = array("d")  # seconds, receipt - committed_at (or server_time)
        self.bases: Counter = Counter()  # which timestamp each latency was measured from
        self.hidden = 0
        self.dropped = 0
        self.closing = False
        self.phase_cpu = time.process_time()
        self.phase_wall = time.perf_counter()
        self.lags = array("d")  # this loop's lateness, sampled every 50 ms: is the client keeping up?

    async def open(self, *, url: str, count: int, concurrency: int, compression: str | None) -> dict:
        gate = asyncio.Semaphore(concurrency)
        outcomes: Counter = Counter()
        started = time.perf_counter()
        parts = urlsplit(url)

        async def one():
            async with gate:
                outcomes[await self._open_one(parts.hostname, parts.port, parts.path, compression)] += 1

        tasks = [asyncio.ensure_future(one()) for _ in range(count)]
        _, pending = await asyncio.wait(tasks, timeout=OPEN_PHASE_TIMEOUT) if tasks else (set(), set())
        for task in pending:
            task.cancel()
            outcomes["failed: open phase timeout"] += 1
        self._start_phase()
        return {
            "held": outcomes.pop("held", 0),
            "refused": outcomes.pop("refused", 0),
            "failures": dict(outcomes),
            "hidden": self.hidden,
            "seconds": time.perf_counter() - started,
        }

    async def _open_one(self, host: str, port: int, path: str, compression: str | None) -> str:
        key = base64.b64encode(os.urandom(16))
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Version: 13\r\n"
            + ("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if compression else "")
            + "\r\n"
        ).encode()
        loop = asyncio.get_running_loop()
        transport = None
        try:
            async with asyncio.timeout(OPEN_TIMEOUT):
                transport, socket = await loop.create_connection(
                    lambda: _Subscriber(self, request, key), host, port
                )
                first = await socket.first
        except Exception as error:
            if transport is not None:
                transport.abort()
            return _open_failure(error)
        if first.get("type") == "results":
            socket.total, socket.version = first["total_votes"], first["version"]
        else:  # results_hidden: counts arrive once they may be seen
            self.hidden += 1
            socket.hidden = True
        self.sockets.append(socket)
        return "held"

    def stamped(self, stamp: str | None, basis: str, now: float):
        self.bases[basis] += 1
        if stamp:
            self.latencies.append(now - datetime.fromisoformat(stamp).timestamp())

    def _start_phase(self):
        self.phase_cpu = time.process_time()
        self.phase_wall = time.perf_counter()
        self.lags = array("d")

    async def watch_lag(self):
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.05)
            self.lags.append(time.perf_counter() - before - 0.05)

    async def settle(self, *, total: int, timeout: float) -> dict:
        """Waits for every socket to show `total`, then reports what was received."""
        started = time.perf_counter()
        wall = started - self.phase_wall
        cpu = time.process_time() - self.phase_cpu
        lags = sorted(self.lags)
        deadline = started + timeout
        while any(socket.total != total for socket in self.sockets) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        return {
            "matched": sum(1 for socket in self.sockets if socket.total == total),
            "settle_seconds": time.perf_counter() - started,
            "messages": sum(socket.count for socket in self.sockets),
            "counts": sorted(socket.count for socket in self.sockets),
            "latencies": base64.b64encode(self.latencies.tobytes()).decode(),
            "bases": dict(self.bases),
            "dropped": self.dropped,
            "cpu_share": cpu / wall if wall > 0 else 0.0,
            "lag_p99": _percentile(lags, 0.99),
            "lag_max": lags[-1] if lags else math.nan,
        }

    async def revealed(self, *, timeout: float) -> dict:
        """Waits for every socket opened on results_hidden to receive results; when each did (time.time())."""
        hidden = [socket for socket in self.sockets if socket.hidden]
        deadline = time.perf_counter() + timeout
        while any(not socket.revealed_at for socket in hidden) and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        times = array("d", (socket.revealed_at for socket in hidden if socket.revealed_at))
        return {"hidden": len(hidden), "times": base64.b64encode(times.tobytes()).decode()}

    async def close(self) -> dict:
        self.closing = True
        for socket in self.sockets:
            socket.close()
        deadline = time.perf_counter() + CLOSE_TIMEOUT
        while any(not socket.closed for socket in self.sockets) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        for socket in self.sockets:
            if not socket.closed:
                socket.transport.abort()
        closed = len(self.sockets)
        self.sockets.clear()
        return {"closed": closed}


_RESULTS = b'{"type": "results", '
_VERSION = re.compile(rb'"version": (\d+)')
_TOTAL = re.compile(rb'"total_votes": (\d+)')
_STAMPS = ((b'"committed_at": "', "committed_at"), (b'"server_time": "', "server_time"))


def _snapshot(text: bytes) -> tuple[int, int, str | None, str] | None:
    """(version, total_votes, timestamp, its name) of a `results` message; None for any other.

    Reads those fields straight from json.dumps' text (a quote inside a JSON string is escaped,
    so `"version": ` can only be a key) instead of decoding it all, most of it HTML: json.loads
    was a third of a subscriber's CPU. Anything laid out differently goes through json.loads.
    """
    if text.startswith(_RESULTS):
        version, total = _VERSION.search(text), _TOTAL.search(text)
        if version and total:
            for key, basis in _STAMPS:
                at = text.rfind(key)
                if at >= 0:
                    start = at + len(key)
                    return int(version[1]), int(total[1]), text[start : text.index(b'"', start)].decode(), basis
    message = json.loads(text)
    if message.get("type") != "results":
        return None
    basis = "committed_at" if message.get("committed_at") else "server_time"
    return message["version"], message["total_votes"], message.get(basis), basis


def _masked(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    return (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")


def _open_failure(error: Exception) -> str:
    """"refused" when the server process is at its connection cap, else "failed: <why>"."""
    if isinstance(error, _NotOpened):
        return error.reason if error.reason == "refused" else f"failed: {error.reason}"
    if isinstance(error, TimeoutError):
        return "failed: timeout"
    return f"failed: {type(error).__name__}"


async def _serve_parent():
    """A child's main loop: one JSON command per stdin line, one JSON reply per stdout line."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_PIPE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    subscribers = _Subscribers()
    watcher = asyncio.ensure_future(subscribers.watch_lag())
    try:
        while line := await reader.readline():
            command = json.loads(line)
            reply = await getattr(subscribers, command["do"])(**command.get("args", {}))
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
            if command["do"] == "close":
                break
    finally:
        watcher.cancel()
        if subscribers.sockets:  # the parent went away
            await subscribers.close()


def subscriber_process():
    """Entry point of a child (see _Child)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    _run(_serve_parent())


def _run(coroutine):
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


# --- The orchestrator's side ----------------------------------------------------------------------


class _Child:
    """One subscriber process, driven over its stdin and stdout."""

    def __init__(self, process):
        self.process = process

    @classmethod
    async def start(cls) -> "_Child":
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_REPO), os.environ.get("PYTHONPATH")]))}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from bench.sockets import subscriber_process; subscriber_process()",
            cwd=_REPO,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=_PIPE_LIMIT,
        )
        return cls(process)

    async def ask(self, do: str, wait: float, **args) -> dict:
        self.process.stdin.write((json.dumps({"do": do, "args": args}) + "\n").encode())
        await self.process.stdin.drain()
        async with asyncio.timeout(wait):
            line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"subscriber process {self.process.pid} exited (code {self.process.returncode})")
        return json.loads(line)

    async def stop(self):
        if self.process.returncode is None:
            try:
                await self.ask("close", CLOSE_TIMEOUT + 5)
                async with asyncio.timeout(5):
                    await self.process.wait()
            except (TimeoutError, RuntimeError, ConnectionError):
                pass
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def _start_children(n: int) -> list[_Child]:
    return list(await asyncio.gather(*(_Child.start() for _ in range(n))))


async def _open_everywhere(children: list[_Child], url: str, count: int, compression: str | None) -> dict:
    shares = [count // len(children) + (1 if i < count % len(children) else 0) for i in range(len(children))]
    per_child = max(1, OPEN_CONCURRENCY // len(children))
    replies = await asyncio.gather(
        *(
            child.ask("open", OPEN_PHASE_TIMEOUT + 10, url=url, count=share, concurrency=per_child, compression=compression)
            for child, share in zip(children, shares)
        )
    )
    failures: Counter = Counter()
    for reply in replies:
        failures.update(reply["failures"])
    return {
        "held": sum(r["held"] for r in replies),
        "refused": sum(r["refused"] for r in replies),
        "failed": sum(failures.values()),
        "failures": dict(failures),
        "hidden": sum(r["hidden"] for r in replies),
        "open_seconds": round(max(r["seconds"] for r in replies), 2),
    }


def _percentile(ordered, fraction: float) -> float:
    if not len(ordered):
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1) if not math.isnan(seconds) else seconds


async def _cast_votes(*, host: str, port: int, poll_id, option_ids, votes_per_second: float, seconds: float) -> dict:
    """Anonymous votes at a steady rate, each from a fresh voter; a vote due while every connection is busy waits."""
    from bench import prepare
    from bench.httpclient import HttpClient

    idle: list = []
    opened = 0
    freed = asyncio.Condition()
    statuses: Counter = Counter()
    latencies: list[float] = []
    behind = 0.0  # the latest a vote left after it was due
    unsent = 0  # due, but every connection was still busy when casting ended
    in_flight: set[asyncio.Task] = set()
    path = "/api/votes"

    async def vote(client):
        body = json.dumps({"poll_id": str(poll_id), "option_ids": [str(random.choice(option_ids))]}).encode()
        headers = prepare.anonymous_voter_headers()
        sent = time.perf_counter()
        try:
            async with asyncio.timeout(VOTE_TIMEOUT):
                status, _ = await client.request("POST", path, headers=headers, body=body)
        except (ConnectionError, OSError, TimeoutError) as error:
            statuses[type(error).__name__] += 1
            await client.close()
            client = None
        else:
            latencies.append(time.perf_counter() - sent)
            statuses[status] += 1
            if client.is_closed:
                client = None
        async with freed:
            if client is None:
                nonlocal opened
                opened -= 1
            else:
                idle.append(client)
            freed.notify()

    async def take():
        nonlocal opened
        async with freed:
            while not idle and opened >= VOTE_CONNECTIONS:
                await freed.wait()
            if idle:
                return idle.pop()
            opened += 1
        try:
            return await HttpClient.connect(host, port)
        except BaseException:
            async with freed:
                opened -= 1
            raise

    total = int(votes_per_second * seconds)
    start = time.perf_counter()
    deadline = start + seconds
    for i in range(total):
        due = start + i / votes_per_second
        if due > time.perf_counter():
            await asyncio.sleep(due - time.perf_counter())
        if time.perf_counter() >= deadline:
            break
        try:
            async with asyncio.timeout(max(0.01, deadline - time.perf_counter())):
                client = await take()
        except TimeoutError:
            unsent = total - i
            break
        except OSError as error:
            statuses[f"connect {type(error).__name__}"] += 1
            continue
        behind = max(behind, time.perf_counter() - due)
        task = asyncio.ensure_future(vote(client))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    casting = time.perf_counter() - start
    if in_flight:
        _, pending = await asyncio.wait(set(in_flight), timeout=VOTE_TIMEOUT + 1)
        for task in pending:
            task.cancel()
    for client in idle:
        await client.close()
    latencies.sort()
    return {
        "votes_sent": sum(statuses.values()),
        "votes_unsent": unsent,
        "votes_committed": statuses.get(201, 0),
        "vote_statuses": {str(status): n for status, n in statuses.items()},
        "votes_per_second": round(statuses.get(201, 0) / casting, 1) if casting else 0.0,
        "vote_p50_ms": _ms(_percentile(latencies, 0.50)),
        "vote_p99_ms": _ms(_percentile(latencies, 0.99)),
        "vote_max_behind_ms": _ms(behind),
    }


async def _settle(children: list[_Child], total: int) -> list[dict]:
    return await asyncio.gather(
        *(child.ask("settle", SETTLE_TIMEOUT + 60, total=total, timeout=SETTLE_TIMEOUT) for child in children)
    )


async def fanout(
    *, host, port, poll_id, option_ids, subscribers, votes_per_second, seconds, db_total, server_pids=(),
    compression=COMPRESSION,
) -> dict:
    """`subscribers` sockets on one poll while votes arrive at a steady rate: snapshot latency and final totals.

    Latency is receipt minus the snapshot's `committed_at` (its earliest vote's commit), over every
    `results` message after the one each socket gets on connect. `client_cpu` and the client's loop
    lag tell whether the subscribers, not the server, set the pace. `server_cpu_us_per_message` is the CPU
    the socket processes (`server_pids`) spent while votes came, per update delivered: unlike latency, it
    hardly moves when the machine is busy with other work.
    """
    url = f"ws://{host}:{port}/ws/poll/{poll_id}"
    children = await _start_children(max(1, min(SUBSCRIBER_PROCESSES, subscribers)))
    try:
        opened = await _open_everywhere(children, url, subscribers, compression)
        cpu_before = _cpu_seconds(server_pids)
        votes = await _cast_votes(
            host=host,
            port=port,
            poll_id=poll_id,
            option_ids=list(option_ids),
            votes_per_second=votes_per_second,
            seconds=seconds,
        )
        total = await asyncio.to_thread(db_total)
        replies = await _settle(children, total)
        server_cpu = _cpu_seconds(server_pids) - cpu_before
        if sum(r["matched"] for r in replies) < opened["held"]:
            # A vote given up on here may have committed after all: judge against the final count.
            final = await asyncio.to_thread(db_total)
            if final != total:
                total = final
                replies = await _settle(children, total)
    finally:
        await asyncio.gather(*(child.stop() for child in children))
    latencies = array("d")
    counts: list[int] = []
    bases: Counter = Counter()
    for reply in replies:
        latencies.frombytes(base64.b64decode(reply["latencies"]))
        counts.extend(reply["counts"])
        bases.update(reply["bases"])
    ordered = sorted(latencies)
    counts.sort()
    return {
        "subscribers": subscribers,
        "client_processes": len(children),
        "compression": compression or "none",
        **opened,
        **votes,
        "db_total": total,
        "messages": sum(counts),
        # Updates after each socket's first snapshot, which came before the votes.
        "server_cpu_us_per_message": round(server_cpu * 1e6 / max(1, sum(counts) - len(counts)), 1)
        if server_pids else math.nan,
        "messages_per_subscriber_min": counts[0] if counts else 0,
        "messages_per_subscriber_median": statistics.median(counts) if counts else 0,
        "messages_per_subscriber_max": counts[-1] if counts else 0,
        "silent_subscribers": sum(1 for n in counts if n == 0),  # held, yet never sent an update
        "latency_from": "+".join(sorted(bases)) or "none",  # committed_at unless the server predates it
        "latency_p50_ms": _ms(_percentile(ordered, 0.50)),
        "latency_p99_ms": _ms(_percentile(ordered, 0.99)),
        "latency_max_ms": _ms(ordered[-1]) if ordered else math.nan,
        "final_total_matched": sum(r["matched"] for r in replies),
        "settle_seconds": round(max(r["settle_seconds"] for r in replies), 2),
        "dropped": sum(r["dropped"] for r in replies),
        "client_cpu": [round(r["cpu_share"], 2) for r in replies],  # per child, 1.0 = one core
        "client_loop_lag_p99_ms": _ms(max(r["lag_p99"] for r in replies)),
        "client_loop_lag_max_ms": _ms(max(r["lag_max"] for r in replies)),
    }


def _cpu_seconds(pids) -> float:
    """User and system CPU the processes have used so far."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            utime, stime = stat.read().rpartition(")")[2].split()[11:13]  # fields 14 and 15 of proc(5)
        total += int(utime) + int(stime)
    return total / os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


async def idle_connections(*, host, port, server_pid, poll_id, count, compression=COMPRESSION) -> dict:
    """`count` sockets that only hold their first snapshot: what each costs the server process in memory.

    Use a fresh server process: one that held sockets before reuses the memory they freed (RSS does
    not shrink), and so under-reports the cost.
    """
    url = f"ws://{host}:{port}/ws/poll/{poll_id}"
    before = _rss_kib(server_pid)
    children = await _start_children(1)
    try:
        opened = await _open_everywhere(children, url, count, compression)
        await asyncio.sleep(IDLE_SETTLE)
        after = _rss_kib(server_pid)
    finally:
        await asyncio.gather(*(child.stop() for child in children))
    await asyncio.sleep(IDLE_SETTLE)
    closed = _rss_kib(server_pid)
    held = opened["held"]
    return {
        "requested": count,
        "compression": compression or "none",
        "held": held,
        "refused": opened["refused"],
        "failed": opened["failed"],
        "failures": opened["failures"],
        "open_seconds": opened["open_seconds"],
        "rss_before_kib": before,
        "rss_after_kib": after,
        "rss_after_close_kib": closed,
        "kib_per_connection": round((after - before) / held, 1) if held else math.nan,
    }


async def _post_once(server: tuple[str, int], path: str, headers: dict, body: dict) -> tuple:
    """One POST on a connection of its own: its status (or the error's name), when it was sent and when answered
    (time.time())."""
    from bench.httpclient import HttpClient

    client = await HttpClient.connect(*server)
    sent_at = time.time()
    try:
        async with asyncio.timeout(VOTE_TIMEOUT):
            status, _ = await client.request("POST", path, headers=headers, body=json.dumps(body).encode())
    except (ConnectionError, OSError, TimeoutError) as error:
        status = type(error).__name__
    finally:
        await client.close()
    return status, sent_at, time.time()


async def _present(host: str, port: int, poll_id, token: str, change: dict) -> tuple:
    """The host's POST /api/polls/{id}/presentation."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return await _post_once((host, port), f"/api/polls/{poll_id}/presentation", headers, change)


async def reveal(*, host, port, poll_id, token, subscribers, compression=COMPRESSION) -> dict:
    """`subscribers` audience sockets on a poll whose results the presenter hides; the host reveals them over
    the API. The time from sending that POST to each socket's results snapshot: the first, p50, p99 and the
    last (max). Sender and subscribers share this machine's clock."""
    status, _, _ = await _present(host, port, poll_id, token, {"presenting": True, "audience_results": "hidden"})
    if status != 200:
        raise RuntimeError(f"hiding the results answered {status}")
    url = f"ws://{host}:{port}/ws/poll/{poll_id}"
    children = await _start_children(max(1, min(SUBSCRIBER_PROCESSES, subscribers)))
    try:
        opened = await _open_everywhere(children, url, subscribers, compression)
        await asyncio.sleep(IDLE_SETTLE)  # the opening burst is over: the server is idle when the host acts
        status, sent_at, answered_at = await _present(host, port, poll_id, token, {"audience_results": "shown"})
        replies = await asyncio.gather(*(child.ask("revealed", REVEAL_TIMEOUT + 10, timeout=REVEAL_TIMEOUT) for child in children))
    finally:
        await asyncio.gather(*(child.stop() for child in children))
    times = array("d")
    for reply in replies:
        times.frombytes(base64.b64decode(reply["times"]))
    waited = sorted(at - sent_at for at in times)
    hidden = sum(reply["hidden"] for reply in replies)
    return {
        "subscribers": subscribers,
        "held": opened["held"],
        "failed": opened["failed"],
        "hidden_on_open": hidden,
        "reveal_status": status,
        "reveal_post_ms": _ms(answered_at - sent_at),
        "revealed": len(waited),
        "not_revealed": hidden - len(waited),
        "reveal_first_ms": _ms(waited[0]) if waited else math.nan,
        "reveal_p50_ms": _ms(_percentile(waited, 0.50)),
        "reveal_p99_ms": _ms(_percentile(waited, 0.99)),
        "reveal_last_ms": _ms(waited[-1]) if waited else math.nan,
    }


async def cross_process(*, a: tuple[str, int], b: tuple[str, int], poll_id, option_ids) -> dict:
    """A subscriber on server a sees a vote cast on server b (through the channel layer), and how soon."""
    from bench import prepare

    subscriber = _Subscribers()
    url = f"ws://{a[0]}:{a[1]}/ws/poll/{poll_id}"
    opened = await subscriber.open(url=url, count=1, concurrency=1, compression=COMPRESSION)
    if not subscriber.sockets:
        return {"subscribed": False, "open": opened["failures"] or "refused", "seen": False}
    socket = subscriber.sockets[0]
    before = socket.total
    try:
        body = {"poll_id": str(poll_id), "option_ids": [str(random.choice(list(option_ids)))]}
        status, sent_at, answered_at = await _post_once(b, "/api/votes", prepare.anonymous_voter_headers(), body)
        deadline = time.perf_counter() + CROSS_TIMEOUT
        while status == 201 and socket.total <= before and not socket.closed and time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
    finally:
        await subscriber.close()
    seen = socket.total > before
    return {
        "subscribed": True,
        "vote_status": status,
        "vote_ms": _ms(answered_at - sent_at),
        "total_before": before,
        "total_seen": socket.total,
        "seen": seen,
        "seen_after_ms": _ms(socket.changed_at - sent_at) if seen else None,  # from sending the vote
    }
