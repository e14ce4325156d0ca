"""Checks the capacity model's first prediction (docs/scaling.md) on this machine.

The model: a vote costs a fixed amount of CPU in each part of the system (HTTP process,
PostgreSQL, Redis, nginx, socket process, the load generator), so the vote rate is the CPU
QuickPoll gets divided by the CPU a vote takes, except that one HTTP process cannot use more
than one core (a Python process, one GIL):

    votes/s = min(HTTP processes / http_cpu_per_vote, cpus_left / all_cpu_per_vote)

cpus_left is the machine's CPUs minus what other work took meanwhile (measured, not assumed:
this machine may be shared). Phase 1 runs bin/production with one HTTP process and measures
the per-vote costs; from them the model predicts phase 2 (two HTTP processes); phase 2 then
measures it. It also prints the per-vote PostgreSQL transactions and Redis commands, the
model's other inputs.

Run, as root on Debian, from the repository (about a minute):

    QUICKPOLL_DURABLE=1 PGPORT=55530 REDIS_PORT=56530 source .ci/services.sh /tmp/quickpoll-capacity
    .venv/bin/python manage.py migrate --noinput
    .venv/bin/python bench/capacity.py [--seconds 15] [--connections 32]
    quickpoll_services_stop
"""

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import hot, prepare  # noqa: E402
from bench.servers import Server  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# As bench/run: the limits that would measure the limiter instead of the vote.
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "ENVIRONMENT": "development",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "RATE_LIMIT_REQUESTS": "100000000",
    "RATE_LIMIT_VOTER_REQUESTS": "1000",
    "BOT_DEFENCE_POLL_THRESHOLD": "100000000",
    "BOT_DEFENCE_ADDRESS_THRESHOLD": "100000000",
    "LOG_LEVEL": "warning",
}


def _stat(pid: int) -> tuple[str, int, int, float] | None:
    """(command name, parent pid, process group, CPU seconds) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return name, int(fields[1]), int(fields[2]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


class CpuMeter:
    """CPU seconds by part of the system, and the whole machine's busy seconds, between two readings."""

    def __init__(self, server: Server, state_dir: Path):
        self.server = server
        self.postmaster = int((state_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
        self.redis = int((state_dir / "redis.pid").read_text().strip())

    def part_of(self, pid: int, name: str, ppid: int, group: int) -> str | None:
        if group == self.server.process.pid:
            command = _cmdline(pid)  # a server's worker processes carry its command line
            if b"quickpoll.wsgi" in command:
                return "http"
            if b"quickpoll.asgi" in command:
                return "sockets"
            return "nginx" if name.startswith("nginx") else "launcher"
        if pid == self.postmaster or ppid == self.postmaster:
            return "postgres"
        if pid == self.redis:
            return "redis"
        if pid == os.getpid():
            return "load generator"
        return None

    def read(self) -> tuple[dict, float]:
        parts: dict[str, float] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                stat = _stat(int(entry.name))
                part = stat and self.part_of(int(entry.name), *stat[:3])
                if part:
                    parts[part] = parts.get(part, 0.0) + stat[3]
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return parts, (sum(fields[:8]) - idle) / CLOCK_TICKS


def _counters(database_url: str, redis_url: str) -> tuple[int, int]:
    """PostgreSQL's committed transactions in QuickPoll's database, and Redis's commands processed."""
    import redis

    with psycopg.connect(database_url, autocommit=True) as connection:
        commits = connection.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()[0]
    commands = redis.Redis.from_url(redis_url).info("stats")["total_commands_processed"]
    return commits, commands


def phase(*, workers: int, port: int, state_dir: Path, seconds: float, connections: int, author) -> dict:
    server = Server(name=f"capacity-{workers}", port=port, workers=workers, state_dir=state_dir).start()
    try:
        meter = CpuMeter(server, Path(os.environ["QUICKPOLL_CI_STATE_DIR"]))
        poll = prepare.make_poll(author=author, title=f"Capacity, {workers} HTTP processes")
        hot.load(server, connections=connections, seconds=3, requests=hot.anonymous_votes(poll))  # warm up
        before_cpu, before_busy = meter.read()
        before_commits, before_commands = _counters(os.environ["DATABASE_URL"], os.environ["REDIS_URL"])
        started = time.monotonic()
        result = hot.load(server, connections=connections, seconds=seconds, requests=hot.anonymous_votes(poll))
        wall = time.monotonic() - started
        after_cpu, after_busy = meter.read()
        after_commits, after_commands = _counters(os.environ["DATABASE_URL"], os.environ["REDIS_URL"])
    finally:
        server.stop()
    votes = result.count(201)
    ours = {part: after_cpu.get(part, 0.0) - before_cpu.get(part, 0.0) for part in after_cpu}
    return {
        "workers": workers,
        "votes": votes,
        "rate": votes / wall,
        "errors": result.errors(201),
        "cpu_ms_per_vote": {part: 1000 * cpu / votes for part, cpu in sorted(ours.items())},
        "others_cpus": max((after_busy - before_busy) - sum(ours.values()), 0.0) / wall,
        "transactions_per_vote": (after_commits - before_commits) / votes,
        "redis_commands_per_vote": (after_commands - before_commands) / votes,
    }


def predict(measured: dict, *, workers: int, cpus: int, others_cpus: float) -> dict:
    """The model's vote rate for `workers` HTTP processes, from one phase's per-vote CPU."""
    http = measured["cpu_ms_per_vote"]["http"] / 1000
    everything = sum(measured["cpu_ms_per_vote"].values()) / 1000
    http_bound = workers / http
    machine_bound = max(cpus - others_cpus, 0.0) / everything
    return {"rate": min(http_bound, machine_bound), "bound": "HTTP processes" if http_bound < machine_bound else "machine CPU"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=18300)
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL", "QUICKPOLL_CI_STATE_DIR"):
        if not os.environ.get(name):
            sys.exit("source .ci/services.sh first (see bench/capacity.py's docstring)")
    os.environ.update(SERVER_ENV)
    state_dir = Path(os.environ["QUICKPOLL_CI_STATE_DIR"]) / "capacity"
    state_dir.mkdir(exist_ok=True)
    prepare.setup()
    from accounts.models import User

    name = f"capacity-{int(time.time())}"
    author = User.objects.create_user(username=name, email=f"{name}@example.invalid", password=None)
    cpus = len(os.sched_getaffinity(0))

    one = phase(workers=1, port=args.port, state_dir=state_dir, seconds=args.seconds, connections=args.connections, author=author)
    two = phase(workers=2, port=args.port + 10, state_dir=state_dir, seconds=args.seconds, connections=args.connections, author=author)
    fitted = predict(one, workers=1, cpus=cpus, others_cpus=one["others_cpus"])
    predicted = predict(one, workers=2, cpus=cpus, others_cpus=two["others_cpus"])

    print(f"capacity check: {cpus} CPUs, anonymous votes on one hot poll, {args.connections} connections, {args.seconds:.0f} s per phase")
    for measured in (one, two):
        costs = ", ".join(f"{part} {ms:.2f}" for part, ms in measured["cpu_ms_per_vote"].items())
        print(
            f"  {measured['workers']} HTTP process(es): {measured['rate']:.0f} votes/s, errors {measured['errors'] or 'none'}; "
            f"CPU ms per vote: {costs} (total {sum(measured['cpu_ms_per_vote'].values()):.2f}); "
            f"other work on the machine {measured['others_cpus']:.2f} CPUs; "
            f"{measured['transactions_per_vote']:.2f} PostgreSQL transactions and "
            f"{measured['redis_commands_per_vote']:.1f} Redis commands per vote"
        )
    print(f"  model with 1 HTTP process: {fitted['rate']:.0f} votes/s ({fitted['bound']} bound), measured {one['rate']:.0f}")
    print(
        f"  prediction for 2 HTTP processes: {predicted['rate']:.0f} votes/s ({predicted['bound']} bound), "
        f"measured {two['rate']:.0f} ({two['rate'] / predicted['rate']:.2f}x the prediction); "
        f"ratio 2:1 predicted {predicted['rate'] / one['rate']:.2f}, measured {two['rate'] / one['rate']:.2f}"
    )
    refitted = predict(two, workers=2, cpus=cpus, others_cpus=two["others_cpus"])
    growth = sum(two["cpu_ms_per_vote"].values()) / sum(one["cpu_ms_per_vote"].values())
    print(
        f"  CPU per vote with 2 HTTP processes: {growth:.2f}x that with 1; the model with those costs: "
        f"{refitted['rate']:.0f} votes/s ({refitted['bound']} bound), measured {two['rate']:.0f}"
    )
    return 0 if one["votes"] and two["votes"] else 1


if __name__ == "__main__":
    sys.exit(main())
