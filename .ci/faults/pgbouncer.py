"""QuickPoll through PgBouncer in transaction pooling (DATABASE_POOLING=transaction), under concurrent votes.

Debian's pgbouncer, as the unprivileged PostgreSQL user, in pool_mode=transaction on a free loopback
port in front of CI's PostgreSQL, with fewer server connections than QuickPoll's pools hold. One
bin/production reaches the database only through it; migrations go straight to PostgreSQL, as the
release step does. Account voters and anonymous voters vote at once, so group commit batches them.
Checked:
- every vote is answered 201, no 5xx, no crash in the server's log;
- per poll: 201s == Ballot rows == total_votes == sum(option.vote_count), the account poll's
  ballots are exactly the accounts that got a 201;
- ballots were written in batches (fewer writing transactions than ballots: rows of one
  transaction share its xmin), through PgBouncer (its SHOW STATS counts the transactions), on at
  most pool_size server connections;
- each poll's export (read with .iterator()) lists every ballot;
- a /ws/poll socket sees the votes arrive.
"""

import os
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import harness
from harness import Client, Load, Server, Watcher, say

POOL_SIZE = 6  # PgBouncer's server connections: fewer than one process's pool (DATABASE_POOL_MAX_SIZE 20)
ACCOUNTS = 48  # account voters, all voting at once
ANONYMOUS_THREADS = 16
LOAD_SECONDS = 6.0


class PgBouncer:
    """Debian's pgbouncer in the foreground, as the PostgreSQL user, trusting loopback like CI's PostgreSQL."""

    def __init__(self, directory: Path, upstream_port: int, database: str):
        self.directory = directory
        self.port = harness.free_port()
        self.upstream_port = upstream_port
        self.database = database
        self.process: subprocess.Popen | None = None

    def start(self) -> "PgBouncer":
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not os.path.exists(binary):
            raise RuntimeError("pgbouncer is not installed (Debian: apt-get install pgbouncer; .ci/run installs it)")
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "userlist.txt").write_text('"postgres" ""\n')
        (self.directory / "pgbouncer.ini").write_text(
            f"""[databases]
{self.database} = host=127.0.0.1 port={self.upstream_port} dbname={self.database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.directory}/userlist.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = {POOL_SIZE}
reserve_pool_size = 0
max_client_conn = 500
logfile = {self.directory}/pgbouncer.log
"""
        )
        user = os.environ.get("QUICKPOLL_CI_PG_USER", "")
        if os.geteuid() == 0 and user and user != "root":
            shutil.chown(self.directory, user)
            shutil.chown(self.directory / "pgbouncer.ini", user)
            shutil.chown(self.directory / "userlist.txt", user)
        # pgbouncer refuses to run as root; it runs as the user that runs PostgreSQL.
        command = harness._as_pg_user([binary, str(self.directory / "pgbouncer.ini")])
        self.process = subprocess.Popen(
            command, cwd=self.directory, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
        if not harness.wait_for(lambda: self.process.poll() is not None or harness._port_open(self.port), 10):
            raise RuntimeError(f"pgbouncer did not listen on {self.port}:\n{self.log_tail()}")
        if self.process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {self.process.returncode}:\n{self.log_tail()}")
        return self

    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def show(self, what: str) -> list[dict]:
        """A SHOW of PgBouncer's admin console (simple query protocol only, hence psql)."""
        psql = str(Path(os.environ["QUICKPOLL_CI_PG_BIN"]) / "psql")
        result = subprocess.run(
            [psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "pgbouncer", "-AF", "\t", "-c", f"SHOW {what}"],
            capture_output=True,
            text=True,
            timeout=10,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"SHOW {what} failed: {result.stderr}")
        lines = [line for line in result.stdout.splitlines() if "\t" in line]
        header = lines[0].split("\t")
        return [dict(zip(header, line.split("\t"))) for line in lines[1:]]

    def connections(self, side: str) -> int:
        """Its connections on one side: "cl" (QuickPoll's, the clients) or "sv" (to PostgreSQL)."""
        pools = [pool for pool in self.show("POOLS") if pool["database"] == self.database]
        return sum(int(pool[column]) for pool in pools for column in pool if column.startswith(f"{side}_"))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM is pgbouncer's immediate shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join((self.directory / "pgbouncer.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class PeakConnections:
    """Samples PgBouncer's client and server connections while the load runs."""

    def __init__(self, bouncer: PgBouncer):
        self.bouncer = bouncer
        self.clients = self.servers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.3):
            self.clients = max(self.clients, self.bouncer.connections("cl"))
            self.servers = max(self.servers, self.bouncer.connections("sv"))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def make_voters(count: int) -> list[tuple[str, str]]:
    """`count` fresh accounts (access token, id), made in the database: registering each through the API
    would spend most of the script's time hashing passwords, which is not what this checks."""
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import RefreshToken

    prefix = f"bouncer{harness.random_token(6)}"
    voters = []
    for index in range(count):
        user = get_user_model().objects.create_user(f"{prefix}{index}", f"{prefix}{index}@example.com", password=None)
        voters.append((str(RefreshToken.for_user(user).access_token), str(user.pk)))
    return voters


def vote_as_accounts(port: int, poll: dict, accounts: list[tuple[str, str]]) -> tuple[list[int], list[str]]:
    """Every account votes on `poll` at once: (statuses, ids of the accepted voters)."""
    start = threading.Barrier(len(accounts))

    def vote(index: int) -> tuple[int, str]:
        token, user_id = accounts[index]
        client = Client(port)
        option = poll["options"][index % len(poll["options"])]["id"]
        start.wait(timeout=30)
        status, _ = client.request(
            "POST", "/api/votes", {"poll_id": poll["id"], "option_ids": [option]}, headers={"Authorization": f"Bearer {token}"}
        )
        client.close()
        return status, user_id

    with ThreadPoolExecutor(len(accounts)) as pool:
        results = list(pool.map(vote, range(len(accounts))))
    return [status for status, _ in results], [user_id for status, user_id in results if status == 201]


def exported_ballots(port: int, token: str, polls: list[dict]) -> list[int | str]:
    """Each poll's export, as its author gets it: the ballots it lists (it reads them with .iterator(),
    a server-side cursor unless DATABASE_POOLING=transaction turns those off), or the status."""
    client = Client(port)
    counts = []
    for poll in polls:
        status, body = client.request(
            "GET", f"/api/polls/{poll['id']}/export?format=json", headers={"Authorization": f"Bearer {token}"}
        )
        counts.append(len(body["ballots"]) if status == 200 and body else status)
    client.close()
    return counts


def check_account_poll(poll: dict, accepted_ids: list[str]) -> tuple[list[str], str, int]:
    """Problems, a description, and the number of transactions that wrote the poll's ballots."""
    from django.db.models import Sum

    from polls.models import Ballot, Option, Poll

    record = Poll.objects.get(pk=poll["id"])
    voters = {str(user_id) for user_id in Ballot.objects.filter(poll=record).values_list("user_id", flat=True)}
    option_sum = Option.objects.filter(poll=record).aggregate(total=Sum("vote_count"))["total"] or 0
    problems = []
    figures = (len(accepted_ids), len(voters), record.total_votes, option_sum)
    description = "201s={}=ballots={}=total_votes={}=options={}".format(*figures)
    if len(set(figures)) != 1 or voters != set(accepted_ids):
        problems.append(f"account poll: {description}, voters match the 201s: {voters == set(accepted_ids)}")
    return problems, description, writing_transactions([poll["id"]])


def writing_transactions(poll_ids: list[str]) -> int:
    """Transactions that inserted these polls' ballots: rows written by one transaction share its xmin."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT xmin::text) FROM polls_ballot WHERE poll_id = ANY(%s::uuid[])", [poll_ids])
        return cursor.fetchone()[0]


def main() -> int:
    problems: list[str] = []
    started = time.monotonic()
    upstream = urlsplit(os.environ["DATABASE_URL"])
    harness.migrate()  # straight to PostgreSQL, as the release step does
    bouncer = PgBouncer(harness.STATE_DIR / "pgbouncer", upstream.port, upstream.path.lstrip("/"))
    server = Server(
        "pgbouncer", env={"DATABASE_URL": bouncer.url(), "DATABASE_POOLING": "transaction", "WEB_CONCURRENCY": "2"}
    )
    load = watcher = None
    try:
        bouncer.start()
        say(f"pgbouncer (pool_mode=transaction, {POOL_SIZE} server connections) on 127.0.0.1:{bouncer.port}")
        server.start()
        client = Client(server.port)
        token, _ = harness.register_author(client, "bouncerauthor")
        account_poll, *anonymous_polls = harness.create_polls(client, token, 3, "Through PgBouncer")
        harness.django_setup()  # straight to PostgreSQL, as the checks below
        accounts = make_voters(ACCOUNTS)
        server.wait_sockets()
        watcher = Watcher(f"{server.ws}/ws/poll/{anonymous_polls[0]['id']}").start()
        with PeakConnections(bouncer) as peak:
            load_started = time.monotonic()
            load = Load([server], anonymous_polls, threads=ANONYMOUS_THREADS, name="bouncer").start(LOAD_SECONDS + 30)
            account_statuses, account_ids = vote_as_accounts(server.port, account_poll, accounts)
            time.sleep(max(LOAD_SECONDS - (time.monotonic() - load_started), 1.0))
            load.stop()
            stats = {row["database"]: row for row in bouncer.show("STATS")}.get(bouncer.database, {})
        exports = exported_ballots(server.port, token, [account_poll, *anonymous_polls])
        harness.wait_for(lambda: watcher.count(0) > 1, harness.SOCKET_TIMEOUT)
        watcher.stop()
    finally:
        if load is not None:
            load.stop()
        if watcher is not None:
            watcher.stop()
        harness.stop_all([server])
        bouncer.stop()

    anonymous = harness.accepted(load.attempts, "vote")
    others = [a for a in load.attempts if a.status != 201]
    account_refused = [status for status in account_statuses if status != 201]
    if others:
        problems.append(f"anonymous votes answered other than 201: {harness.describe(others)}")
    if account_refused:
        problems.append(f"account votes answered other than 201: {sorted(set(map(str, account_refused)))}")
    crashes = server.crashes()
    if crashes:
        problems.append(f"{crashes} crashes in the server's log")

    count_problems, totals = harness.check_counts(anonymous_polls, anonymous, [])
    problems += count_problems
    account_problems, account_description, account_transactions = check_account_poll(account_poll, account_ids)
    problems += account_problems
    say(f"account poll: {account_description}")
    ballots = len(anonymous) + len(account_ids)
    exports_whole = exports == [len(account_ids), *(sum(a.poll_id == p["id"] for a in anonymous) for p in anonymous_polls)]
    if not exports_whole:
        problems.append(f"the polls' exports list {exports} ballots, not the votes accepted")
    transactions = writing_transactions([poll["id"] for poll in anonymous_polls]) + account_transactions
    if transactions >= ballots:
        problems.append(f"{ballots} ballots in {transactions} transactions: group commit never batched")
    through_bouncer = int(stats.get("total_xact_count", 0))
    if through_bouncer < ballots:
        problems.append(f"PgBouncer counted {through_bouncer} transactions for {ballots} ballots: votes bypassed it")
    if peak.servers > POOL_SIZE:
        problems.append(f"{peak.servers} server connections behind PgBouncer, over its pool of {POOL_SIZE}")
    snapshots = watcher.count(0)
    if snapshots < 2:
        problems.append(f"the /ws/poll socket got {snapshots} snapshots: no live update after its first")

    say(f"requests: {harness.describe(load.attempts)}; {len(account_ids)} account votes accepted")
    say(f"PgBouncer: {through_bouncer} transactions; at most {peak.clients} clients and {peak.servers} server connections at once")
    say(f"took {time.monotonic() - started:.1f} s")
    line = (
        f"faults: through PgBouncer (transaction pooling, {peak.clients} clients on at most {peak.servers} server "
        f"connections): {ballots} votes "
        f"({len(account_ids)} accounts, {len(anonymous)} anonymous) in {transactions} writing transactions "
        f"({ballots / max(transactions, 1):.1f} per batch), counts exact: {'no' if count_problems or account_problems else 'yes'}, "
        f"{totals['lost']} lost, "
        f"exports whole: {'yes' if exports_whole else 'no'}, {snapshots - 1 if snapshots else 0} live updates on a socket, "
        f"{len(harness.server_errors(load.attempts)) + crashes} server errors"
    )
    return harness.finish(line, problems)


if __name__ == "__main__":
    harness.run(main, "through PgBouncer")
