"""The database baseline: pgbench running the naive vote transaction (bench/naive.sql).

Its own three tables in a database of their own on the same PostgreSQL server, so the figure
is what that server can commit for a hot poll with nothing in front of it.
"""

import glob
import os
import re
import shutil
import statistics
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

SCRIPT = Path(__file__).with_name("naive.sql")
DATABASE = "naive"

SCHEMA = """
CREATE TABLE poll (id integer PRIMARY KEY, total integer NOT NULL DEFAULT 0);
CREATE TABLE option (
    id integer PRIMARY KEY,
    poll_id integer NOT NULL REFERENCES poll,
    votes integer NOT NULL DEFAULT 0
);
CREATE TABLE vote (
    id bigserial PRIMARY KEY,
    poll_id integer NOT NULL REFERENCES poll,
    option_id integer NOT NULL REFERENCES option,
    voter bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (poll_id, voter)
);
CREATE SEQUENCE voter_seq;
"""


def _server(database_url: str) -> dict:
    parts = urlsplit(database_url)
    return {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432, "user": parts.username or "postgres"}


def pgbench_path() -> str:
    pg_bin = os.environ.get("QUICKPOLL_CI_PG_BIN", "")
    if pg_bin and os.access(f"{pg_bin}/pgbench", os.X_OK):
        return f"{pg_bin}/pgbench"
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench")) or [shutil.which("pgbench")]
    if not found[-1]:
        raise RuntimeError("pgbench not found (Debian: apt-get install postgresql-contrib or postgresql-client)")
    return found[-1]


def create_database(database_url: str, polls: int) -> None:
    server = _server(database_url)
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    with psycopg.connect(dbname=DATABASE, **server) as connection:
        connection.execute(SCHEMA)
        for poll in range(1, polls + 1):
            connection.execute("INSERT INTO poll (id) VALUES (%s)", (poll,))
            for option in range(1, 5):
                connection.execute("INSERT INTO option (id, poll_id) VALUES (%s, %s)", (poll * 10 + option, poll))


def run_pgbench(database_url: str, *, poll: int, clients: int, seconds: int, log_dir: Path) -> dict:
    """pgbench -n -j 2 at `clients` connections for `seconds`; tps, latency percentiles, and a count check."""
    server = _server(database_url)
    prefix = log_dir / f"pgbench-c{clients}"
    command = [
        pgbench_path(),
        "-n", "-j", "2", "-c", str(clients), "-T", str(seconds),
        "-f", str(SCRIPT), "-D", f"poll={poll}",
        "-l", f"--log-prefix={prefix}",
        "-h", server["host"], "-p", str(server["port"]), "-U", server["user"], DATABASE,
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, cwd=log_dir)
    (log_dir / f"pgbench-output-c{clients}.txt").write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0:
        raise RuntimeError(f"pgbench failed ({completed.returncode}): {completed.stderr.strip()[-500:]}")
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", completed.stdout).group(1))
    processed = int(re.search(r"number of transactions actually processed: (\d+)", completed.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", completed.stdout)
    latencies = []
    for path in glob.glob(f"{prefix}.*"):
        with open(path) as log:
            latencies.extend(int(line.split()[2]) / 1000.0 for line in log if line.strip())
        os.unlink(path)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    with psycopg.connect(dbname=DATABASE, **server) as connection:
        total = connection.execute("SELECT total FROM poll WHERE id = %s", (poll,)).fetchone()[0]
        option_sum = connection.execute("SELECT sum(votes) FROM option WHERE poll_id = %s", (poll,)).fetchone()[0]
        rows = connection.execute("SELECT count(*) FROM vote WHERE poll_id = %s", (poll,)).fetchone()[0]
    return {
        "clients": clients,
        "seconds": seconds,
        "tps": round(tps, 1),
        "transactions": processed,
        "failed": int(failed.group(1)) if failed else 0,
        "p50_ms": round(quantiles[49], 2),
        "p99_ms": round(quantiles[98], 2),
        "consistent": total == option_sum == rows == processed,
        "counts": {"total": total, "option_sum": option_sum, "vote_rows": rows},
    }
