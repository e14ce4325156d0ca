"""A small HTTP/1.1 keep-alive client on asyncio (uvloop), and a load runner built on it.

The benchmark measures QuickPoll and its baselines with this one client, so a ratio
compares servers, not clients. It is a protocol (not streams) to keep the client's own
cost per request low: on a small machine the load generator shares the CPUs with the server.
"""

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

REQUEST_TIMEOUT = 30.0  # one request never waits longer than this
DRAIN_TIMEOUT = 30.0  # after the deadline, in-flight requests get this long to finish

Request = tuple[str, str, dict | None, bytes | None]  # method, path, headers, body


class _ResponseParser:
    """Cuts HTTP/1.1 responses (Content-Length or chunked) out of a byte stream."""

    def __init__(self):
        self.buffer = bytearray()
        self.head_only = False

    def parse(self):
        """One complete response as (status, headers, body, keep_alive), or None while incomplete."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        status = int(parts[1])
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        keep_alive = headers.get("connection", "").lower() != "close"
        start = end + 4
        if self.head_only or status in (204, 304) or 100 <= status < 200:
            del self.buffer[:start]
            return status, headers, b"", keep_alive
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body, consumed = _dechunk(self.buffer, start)
            if body is None:
                return None
            del self.buffer[:consumed]
            return status, headers, body, keep_alive
        if "content-length" in headers:
            length = int(headers["content-length"])
            if len(self.buffer) < start + length:
                return None
            body = bytes(self.buffer[start : start + length])
            del self.buffer[: start + length]
            return status, headers, body, keep_alive
        # No length: the body runs to the end of the connection (handled in connection_lost).
        return None


def _dechunk(buffer: bytearray, position: int):
    """(body, bytes consumed) of a complete chunked body starting at `position`, else (None, 0)."""
    chunks = []
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None, 0
        size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
        position = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", position - 2)
            if trailer_end < 0:
                return None, 0
            return b"".join(chunks), trailer_end + 4
        if len(buffer) < position + size + 2:
            return None, 0
        chunks.append(bytes(buffer[position : position + size]))
        position += size + 2


class _Protocol(asyncio.Protocol):
    def __init__(self):
        self.transport = None
        self.parser = _ResponseParser()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.parser.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        try:
            response = self.parser.parse()
        except (ValueError, IndexError) as error:
            self.waiter.set_exception(ConnectionError(f"malformed response: {error}"))
            self.transport.close()
            return
        if response is not None:
            self.waiter.set_result(response)

    def connection_lost(self, exc):
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc or 'closed by the server'}"))


class HttpClient:
    """One keep-alive HTTP/1.1 connection; requests go one at a time."""

    def __init__(self, host: str, port: int, transport, protocol: _Protocol):
        self.host = host
        self.port = port
        self._transport = transport
        self._protocol = protocol
        self._host_header = f"Host: {host}:{port}\r\n".encode()
        self.last_headers: dict[str, str] = {}  # the newest response's headers, names lower-case

    @classmethod
    async def connect(cls, host: str, port: int) -> "HttpClient":
        transport, protocol = await asyncio.get_running_loop().create_connection(_Protocol, host, port)
        return cls(host, port, transport, protocol)

    @property
    def is_closed(self) -> bool:
        return self._protocol.closed

    async def request(
        self, method: str, path: str, headers: dict | None = None, body: bytes | None = None
    ) -> tuple[int, bytes]:
        """Send one request and wait for its response: (status, body). Raises ConnectionError when the link drops."""
        protocol = self._protocol
        if protocol.closed:
            raise ConnectionError("connection is closed")
        lines = [f"{method} {path} HTTP/1.1\r\n".encode(), self._host_header]
        if headers:
            lines.extend(f"{name}: {value}\r\n".encode() for name, value in headers.items())
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(b"Content-Length: %d\r\n" % len(body or b""))
        lines.append(b"\r\n")
        if body:
            lines.append(body)
        protocol.parser.head_only = method == "HEAD"
        waiter = asyncio.get_running_loop().create_future()
        protocol.waiter = waiter
        self._transport.write(b"".join(lines))
        # A response may already sit in the buffer (pipelined bytes); normally data_received resolves it.
        if protocol.parser.buffer:
            response = protocol.parser.parse()
            if response is not None:
                waiter.set_result(response)
        try:
            status, response_headers, response_body, keep_alive = await waiter
        finally:
            protocol.waiter = None
        self.last_headers = response_headers
        if not keep_alive:
            self._transport.close()
            protocol.closed = True
        return status, response_body

    async def close(self) -> None:
        if not self._protocol.closed:
            self._transport.close()
            self._protocol.closed = True


# --- Load ------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    connections: int
    seconds: float  # from the start to the last response
    statuses: Counter = field(default_factory=Counter)  # HTTP status or an error name -> count
    latencies_ms: list[float] = field(default_factory=list)
    timeline: list[int] = field(default_factory=list)  # responses of the wanted status per second
    client_cpu: float = 0.0  # the load generator's CPU seconds per wall second (1.0 = one core)
    exhausted: bool = False  # the request source ran dry before the deadline

    def count(self, *statuses) -> int:
        return sum(self.statuses.get(status, 0) for status in statuses)

    def rate(self, *statuses) -> float:
        return self.count(*statuses) / self.seconds if self.seconds else 0.0

    @property
    def requests_per_second(self) -> float:
        return sum(self.statuses.values()) / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies_ms:
            return math.nan
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]

    @property
    def p50(self) -> float:
        return self.percentile(0.50)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)

    def errors(self, *wanted) -> dict:
        return {str(status): n for status, n in sorted(self.statuses.items(), key=str) if status not in wanted}

    def summary(self, *wanted) -> dict:
        return {
            "connections": self.connections,
            "seconds": round(self.seconds, 2),
            "statuses": {str(status): n for status, n in self.statuses.items()},
            "wanted": self.count(*wanted),
            "wanted_per_second": round(self.rate(*wanted), 1),
            "requests_per_second": round(self.requests_per_second, 1),
            "p50_ms": round(self.p50, 2),
            "p99_ms": round(self.p99, 2),
            "errors": self.errors(*wanted),
            "timeline": self.timeline,
            "client_cpu": round(self.client_cpu, 2),
            "exhausted": self.exhausted,
        }


async def run_load(
    host: str,
    port: int,
    *,
    connections: int,
    seconds: float,
    requests: Iterable[Request] | Callable[[], Request],
    wanted: Iterable[int] = (200, 201),
) -> LoadResult:
    """Keep `connections` connections busy for `seconds`, each taking the next request from `requests`.

    No request starts after the deadline; those in flight then finish (so counts by status are
    exact), each within REQUEST_TIMEOUT. A dropped connection counts as an error and is replaced.
    `requests` is an iterator (shared by all connections; when it runs dry, connections stop) or a
    function returning one request per call.
    """
    wanted = set(wanted)
    if callable(requests):
        next_request = requests
    else:
        source: Iterator[Request] = iter(requests)
        next_request = source.__next__
    result = LoadResult(connections=connections, seconds=0.0)
    per_second: Counter = Counter()
    clients = await asyncio.gather(*(HttpClient.connect(host, port) for _ in range(connections)))
    cpu_start = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    last_done = start

    async def worker(client: HttpClient):
        nonlocal last_done
        perf_counter = time.perf_counter
        statuses = result.statuses
        latencies = result.latencies_ms
        while perf_counter() < deadline:
            try:
                method, path, headers, body = next_request()
            except StopIteration:
                result.exhausted = True
                break
            sent = perf_counter()
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    status, _ = await client.request(method, path, headers, body)
            except (ConnectionError, OSError, TimeoutError) as error:
                statuses["timeout" if isinstance(error, TimeoutError) else "disconnect"] += 1
                await client.close()
                client = await _reconnect(host, port, deadline, statuses)
                if client is None:
                    break
                continue
            done = perf_counter()
            latencies.append((done - sent) * 1000.0)
            statuses[status] += 1
            if status in wanted:
                per_second[int(done - start)] += 1
            if done > last_done:
                last_done = done
            if client.is_closed:  # the server said Connection: close
                client = await _reconnect(host, port, deadline, statuses)
                if client is None:
                    break
        if client is not None:
            await client.close()

    tasks = [asyncio.ensure_future(worker(client)) for client in clients]
    _, pending = await asyncio.wait(tasks, timeout=seconds + REQUEST_TIMEOUT + DRAIN_TIMEOUT)
    for task in pending:
        task.cancel()
        result.statuses["unfinished"] += 1
    result.seconds = max(last_done - start, 1e-9)
    result.client_cpu = (time.process_time() - cpu_start) / max(time.perf_counter() - start, 1e-9)
    result.timeline = [per_second.get(second, 0) for second in range(int(math.ceil(result.seconds)))]
    return result


async def _reconnect(host: str, port: int, deadline: float, statuses: Counter) -> HttpClient | None:
    while time.perf_counter() < deadline:
        try:
            async with asyncio.timeout(5):
                return await HttpClient.connect(host, port)
        except (OSError, TimeoutError):
            statuses["connect_error"] += 1
            await asyncio.sleep(0.05)
    return None


def run(coroutine):
    """Run a coroutine on a fresh uvloop event loop (asyncio's own loop when uvloop is missing)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)
