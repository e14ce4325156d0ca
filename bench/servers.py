"""QuickPoll under test: bin/production (or bin/single) started and stopped by the benchmark.

Each server runs in a process group of its own, listed in STATE_DIR/servers.pids so that
bench/run's exit trap can end it even if this Python process dies first. bin/production may
use PORT and the next few ports (its own backends), so servers are PORT_STEP apart.
"""

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60  # seconds for /health to answer 200
PORT_STEP = 10


class Server:
    def __init__(self, *, name: str, port: int, workers: int, state_dir: Path, command: str = "production",
                 socket_server: str = "uvicorn"):  # fmt: skip
        self.name = name
        self.command = command  # bin/production, or bin/single: one granian ASGI server for everything
        self.socket_server = socket_server  # bin/sockets' SOCKET_SERVER
        self.host = "127.0.0.1"
        self.port = port
        self.workers = workers
        self.state_dir = state_dir
        self.log_path = state_dir / f"server-{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Server":
        env = {
            **os.environ,
            "WEB_CONCURRENCY": str(self.workers),
            "SOCKET_CONCURRENCY": str(self.workers),
            "SOCKET_SERVER": self.socket_server,
            "HOST": self.host,
            "PORT": str(self.port),
        }
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(ROOT / "bin" / self.command)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with open(self.state_dir / "servers.pids", "a") as pids:
            pids.write(f"{self.process.pid}\n")
        self._wait_healthy()
        return self

    @property
    def pid(self) -> int:
        """One process serving WebSockets: the ASGI server's (its first worker's, when it has a supervisor)."""
        return self.socket_pids[0]

    @property
    def socket_pids(self) -> list[int]:
        """Every process serving WebSockets: the ASGI server's workers (the server itself when it has none).

        A worker is any child of the ASGI server: uvicorn's are multiprocessing children whose command line
        does not name the application."""
        group = self._processes()
        servers = {pid for pid, _, _, cmdline in group if b"quickpoll.asgi" in cmdline}
        workers = [pid for pid, ppid, _, _ in group if ppid in servers]
        return sorted(workers or servers) or [self.process.pid]

    def cpu_seconds(self) -> float:
        """CPU time (user and system) the server's processes have used so far: nginx, the HTTP and socket processes
        and the webhook worker, everything bin/production started; PostgreSQL and Redis are not in it."""
        return sum(ticks for _, _, ticks, _ in self._processes()) / os.sysconf("SC_CLK_TCK")

    def _processes(self) -> list[tuple[int, int, int, bytes]]:
        """The server's process group: (pid, parent's pid, CPU ticks used so far, command line) of each."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            # Fields after the command's closing parenthesis: state, ppid, pgrp, ..., utime (12th), stime (13th).
            fields = stat.rpartition(")")[2].split()
            if int(fields[2]) == self.process.pid:
                found.append((int(entry.name), int(fields[1]), int(fields[11]) + int(fields[12]), cmdline))
        return found

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        url = f"http://{self.host}:{self.port}/health"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server {self.name} exited ({self.process.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"server {self.name} not healthy after {START_TIMEOUT}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)  # nginx's graceful stop, then the servers' (10 s each at most)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def log_lines(self, needle: str) -> list[str]:
        try:
            with open(self.log_path, errors="replace") as log:
                return [line.rstrip() for line in log if needle in line]
        except OSError:
            return []
