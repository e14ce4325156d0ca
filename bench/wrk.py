"""The hot poll once more with wrk as the load generator (C, beside our Python client), account voters at 64
connections: the figure a reader can reproduce with a tool they know. bench/wrk_votes.lua writes the votes."""

import re
import shutil
import subprocess
import time
from pathlib import Path

from bench import prepare
from bench.hot import QUIET_SECONDS

SCRIPT = Path(__file__).resolve().parent / "wrk_votes.lua"
THREADS = 2
_LINE = re.compile(r"QUICKPOLL (.*)")


def available() -> bool:
    return shutil.which("wrk") is not None


def vote_phase(server, *, poll: dict, tokens_path: Path, connections: int, seconds: float) -> dict:
    command = [
        "wrk", f"-t{THREADS}", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "10s", "-s", str(SCRIPT),
        f"http://{server.host}:{server.port}/", "--", str(tokens_path), poll["id"], ",".join(poll["option_ids"]), str(THREADS),
    ]  # fmt: skip
    before = server.cpu_seconds()
    finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    used = server.cpu_seconds() - before
    found = _LINE.search(finished.stdout)
    if finished.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stdout[-500:]} {finished.stderr[-500:]}")
    figures = {key: float(value) for key, value in (pair.split("=") for pair in found.group(1).split())}
    time.sleep(QUIET_SECONDS)
    counts = prepare.poll_counts(poll["id"])
    accepted = int(figures["accepted"])
    return {
        "voters": "account (wrk)",
        "connections": connections,
        "seconds": figures["seconds"],
        "wanted": accepted,
        "wanted_per_second": round(accepted / figures["seconds"], 1),
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "errors": {key: int(figures[key]) for key in ("others", "socket_errors") if figures[key]},
        "exhausted": figures["exhausted"] > 0,
        "server_cpu_ms": round(1000 * used / max(accepted, 1), 2),
        "poll_id": poll["id"],
        "counts": counts,
        # wrk stops at its deadline without reading the answers in flight: those votes count, unseen (one per connection
        # at most). The poll's counter, its options' and its rows must still agree.
        "unanswered": counts["vote_rows"] - accepted,
        "consistent": counts["total_votes"] == counts["option_sum"] == counts["vote_rows"]
        and 0 <= counts["vote_rows"] - accepted <= connections,
    }
