"""QuickPoll's benchmark: every figure next to a baseline measured in the same run.

Run through bench/run, which starts PostgreSQL and Redis and sets the server's environment.
Prints the tables and writes them as JSON to STATE_DIR/results.json. Exits 1 when a
correctness check fails (a 201 not counted exactly once) or a section could not run;
performance targets are reported as PASS/FAIL but do not change the exit code.
"""

import argparse
import asyncio
import json
import math
import os
import platform
import re
import signal
import subprocess
import sys
import time
import traceback
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from bench import hot, naive, prepare, ranked, reads, wrk
from bench.httpclient import run
from bench.servers import PORT_STEP, ROOT, Server

from bench import sockets
from bench import metrics as server_metrics  # sets this run's METRICS_TOKEN before any server starts

CONCURRENCY = (8, 32, 64)
MAIN_WORKERS = 2  # HTTP processes (WEB_CONCURRENCY) of the main server, as bin/production defaults
SOCKET_SECTION_TIMEOUT = 240  # seconds, each WebSocket figure
SECTIONS = ("hot", "pgbench", "reads", "ranked", "scale-out", "sockets", "modes")
MODES = ("production", "single")
READ_TARGETS = {"api": 0.8, "page": 0.5}  # each read's rate against the trivial view's, at 64 connections  # bin/production (nginx + bin/http + bin/sockets) and bin/single


class Bench:
    def __init__(self, args):
        self.args = args
        self.state_dir = Path(args.state_dir).resolve()
        self.database_url = os.environ["DATABASE_URL"]
        self.results: dict = {"machine": {}, "hot": [], "pgbench": {}, "trivial": {}, "reads": [], "scale_out": {}, "sockets": {},
                                "hot_ranked": [], "ranked_count": {}, "modes": {}, "wrk": {}}
        self.failures: list[str] = []
        self.servers: list[Server] = []
        self.port = args.port

    # --- plumbing ---------------------------------------------------------------------------

    def server(self, name: str, workers: int, *, command: str = "production", socket_server: str | None = None) -> Server:
        socket_server = socket_server or self.args.socket_servers[0]
        server = Server(name=name, port=self.port, workers=workers, state_dir=self.state_dir, command=command,
                        socket_server=socket_server)  # fmt: skip
        self.port += PORT_STEP
        self.servers.append(server)
        sockets_by = f", SOCKET_SERVER={socket_server}" if command == "production" else ""
        say(f"starting bin/{command} ({name}, WEB_CONCURRENCY={workers}{sockets_by}) on 127.0.0.1:{server.port}")
        return server.start()

    def wants(self, *sections: str) -> bool:
        return any(section in self.args.only for section in sections)

    def stop(self, server: Server) -> None:
        server.stop()
        self.servers.remove(server)

    def section(self, name: str, function, *args, **kwargs):
        """Run one part of the benchmark; a crash is recorded as a failure and the rest goes on."""
        started = time.monotonic()
        try:
            return function(*args, **kwargs)
        except Exception as error:
            self.failures.append(f"{name}: {type(error).__name__}: {error}")
            say(f"FAILED {name}:\n{traceback.format_exc()}")
            return None
        finally:
            say(f"{name} took {time.monotonic() - started:.0f}s")

    def db_total(self, poll_id: str):
        parts = urlsplit(self.database_url)
        connection = psycopg.connect(
            host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres", dbname=parts.path.lstrip("/"),
            autocommit=True,
        )  # fmt: skip

        def total() -> int:
            return connection.execute("SELECT total_votes FROM polls_poll WHERE id = %s", (poll_id,)).fetchone()[0]

        return total

    # --- the run ----------------------------------------------------------------------------

    def run(self) -> int:
        args = self.args
        self.results["machine"] = machine(self.database_url)
        self.results["settings"] = {
            "vote_seconds": args.seconds, "trivial_seconds": args.trivial_seconds, "read_seconds": args.read_seconds,
            "concurrency": list(CONCURRENCY), "voters": args.voters,
        }  # fmt: skip
        print_header(self.results["machine"])

        prepare.setup()
        say(f"making {args.voters} voter accounts and their access tokens")
        started = time.monotonic()
        self.author = prepare.make_author()
        self.tokens = prepare.make_voter_tokens(args.voters)
        self.tokens_path = self.state_dir / "tokens.txt"  # for wrk's script
        self.tokens_path.write_text("\n".join(self.tokens) + "\n")
        say(f"voters ready in {time.monotonic() - started:.1f}s")
        naive.create_database(self.database_url, polls=len(CONCURRENCY))
        try:
            self.measure()
        except Exception as error:  # a server that would not start: report what was measured
            self.failures.append(f"{type(error).__name__}: {error}")
            say(f"FAILED:\n{traceback.format_exc()}")
        return self.report()

    def measure(self) -> None:
        first, *others = self.args.socket_servers
        if self.wants("hot", "pgbench", "reads", "ranked", "scale-out", "sockets"):
            main = self.server("main", MAIN_WORKERS)
            try:
                if self.wants("hot", "reads"):  # reads reuse the hot poll's votes
                    self.section("hot poll", self.hot_poll, main)
                if self.wants("pgbench"):
                    self.section("pgbench", self.pgbench)
                if self.wants("reads"):
                    self.section("reads", self.reads, main)
                if self.wants("ranked"):
                    self.section("ranked count", self.ranked_count, main)
                if self.wants("scale-out"):
                    self.section("scale-out (2 processes)", self.scale_out, main, 2)
                if self.wants("sockets"):
                    self.section("sockets fan-out", self.fanout, main)
                    self.section("sockets presenter reveal", self.reveal, main)
            finally:
                self.stop(main)
        if self.wants("scale-out", "sockets"):
            single = self.server("one-process", 1)
            try:
                if self.wants("scale-out"):
                    self.section("scale-out (1 process)", self.scale_out, single, 1)
                if self.wants("sockets"):
                    self.section("sockets idle", self.idle, single)
                    self.section("sockets cross-process", self.cross_process, single)
            finally:
                self.stop(single)
        # The same socket figures under each other socket server, for the choice of bin/sockets' default.
        for socket_server in others if self.wants("sockets") else ():
            main = self.server(f"main-{socket_server}", MAIN_WORKERS, socket_server=socket_server)
            try:
                self.section(f"sockets fan-out ({socket_server})", self.fanout, main)
            finally:
                self.stop(main)
            single = self.server(f"one-process-{socket_server}", 1, socket_server=socket_server)
            try:
                self.section(f"sockets idle ({socket_server})", self.idle, single)
                self.section(f"sockets cross-process ({socket_server})", self.cross_process, single)
            finally:
                self.stop(single)
        if self.wants("modes"):
            self.section("modes", self.modes)

    def modes(self) -> None:
        """bin/production against bin/single, WEB_CONCURRENCY processes each: the hot poll, the trivial view and
        fan-out to 1,000 sockets, each under the same load."""
        for command in MODES:
            server = self.server(f"mode-{command}", MAIN_WORKERS, command=command)
            figures = self.results["modes"][command] = {"workers": MAIN_WORKERS}
            try:
                say(f"mode {command}: trivial view, 64 connections, {self.args.trivial_seconds}s")
                trivial = hot.load(server, connections=64, seconds=self.args.trivial_seconds, requests=hot.repeat("/bench/trivial"))
                figures["trivial"] = trivial.summary(200)
                figures["votes"] = self.vote_phase(server, "account", 64, record=[])
                poll = prepare.make_poll(author=self.author, title=f"Fan-out mode {command}")
                subscribers = self.args.fanout[0]
                say(f"mode {command}: sockets fan-out, {subscribers} subscribers")
                figures["fanout"] = run(asyncio.wait_for(sockets.fanout(
                    host=server.host, port=server.port, poll_id=poll["id"], option_ids=poll["option_ids"],
                    subscribers=subscribers, votes_per_second=self.args.fanout_votes_per_second,
                    seconds=self.args.fanout_seconds, db_total=self.db_total(poll["id"]),
                    server_pids=server.socket_pids,
                ), SOCKET_SECTION_TIMEOUT))  # fmt: skip
            finally:
                self.stop(server)

    def report(self) -> int:
        self.check_server_logs()
        targets = self.targets()
        self.results["targets"] = targets
        self.results["failures"] = self.failures
        print_tables(self.results, targets)
        (self.state_dir / "results.json").write_text(json.dumps(self.results, indent=2, default=str))
        say(f"results written to {self.state_dir / 'results.json'}")
        if self.failures:
            print("\nFAILURES:")
            for failure in self.failures:
                print(f"  - {failure}")
            return 1
        return 0

    @server_metrics.watched("hot poll")
    def hot_poll(self, server: Server) -> None:
        for connections in CONCURRENCY:
            say(f"trivial view, {connections} connections, {self.args.trivial_seconds}s")
            self.results["trivial"][connections] = hot.measured(
                server, lambda: hot.load(server, connections=connections, seconds=self.args.trivial_seconds,
                                         requests=hot.repeat("/bench/trivial")), 200)  # fmt: skip
            for voters in ("account", "anonymous"):
                self.vote_phase(server, voters, connections, record=self.results["hot"])
        self.section("hot poll (wrk)", self.wrk_vote_phase, server)
        self.section("hot ranked poll", self.hot_ranked_poll, server)

    def wrk_vote_phase(self, server: Server) -> None:
        """The account voters' phase at 64 connections once more, with wrk sending the votes."""
        if not wrk.available():
            raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
        poll = prepare.make_poll(author=self.author, title="Hot poll wrk")
        say(f"hot poll, account voters, 64 connections, {self.args.seconds}s, wrk as the load generator")
        phase = wrk.vote_phase(server, poll=poll, tokens_path=self.tokens_path, connections=64, seconds=self.args.seconds)
        self.results["wrk"] = phase
        counts = phase["counts"]
        say(f"  201s={phase['wanted']} poll.total_votes={counts['total_votes']} sum(option.vote_count)={counts['option_sum']}"
            f" Vote rows={counts['vote_rows']} (answers wrk left unread at its deadline: {phase['unanswered']})"
            + ("  OK" if phase["consistent"] else "  MISMATCH"))  # fmt: skip
        if not phase["consistent"]:
            self.failures.append(f"hot poll (wrk): counts differ: {phase['wanted']} 201s, {counts}")
        if phase["exhausted"]:
            self.failures.append("hot poll (wrk): ran out of voters; raise --voters")

    def hot_ranked_poll(self, server: Server) -> None:
        """The hot poll once more as a ranked poll: partial rankings in random orders, 64 connections."""
        self.vote_phase(server, "account", 64, record=self.results["hot_ranked"], method="ranked")

    def vote_phase(self, server: Server, voters: str, connections: int, *, record: list, method: str = "single") -> dict:
        poll = prepare.make_poll(author=self.author, title=f"Hot poll {method} {voters} {connections} {len(record)}", method=method)
        say(f"hot poll ({method}), {voters} voters, {connections} connections, {self.args.seconds}s")
        phase = hot.vote_phase(
            server, poll=poll, voters=voters, connections=connections, seconds=self.args.seconds, tokens=self.tokens
        )
        phase["server"] = server.name
        phase["workers"] = server.workers
        record.append(phase)
        counts = phase["counts"]
        line = (
            f"  201s={phase['wanted']} poll.total_votes={counts['total_votes']} sum(option.vote_count)={counts['option_sum']}"
            f" Vote rows={counts['vote_rows']} Ballot rows={counts['ballot_rows']}"
        )
        if method == "ranked":
            line += f" rank-1 rows={counts['rank_one_rows']} each option's first preferences exact={counts['first_preferences_exact']}"
        say(line + ("  OK" if phase["consistent"] else "  MISMATCH"))
        if not phase["consistent"]:
            self.failures.append(f"hot poll ({method}) {voters} c={connections} on {server.name}: counts differ:{line}")
        if phase["exhausted"]:
            self.failures.append(f"hot poll {voters} c={connections}: ran out of voters; raise --voters")
        if phase["wanted"] == 0:
            self.failures.append(f"hot poll {voters} c={connections}: no vote accepted ({phase['statuses']})")
        return phase

    def pgbench(self) -> None:
        for poll, clients in enumerate(CONCURRENCY, start=1):
            say(f"pgbench naive vote, {clients} clients, {self.args.seconds}s")
            figures = naive.run_pgbench(
                self.database_url, poll=poll, clients=clients, seconds=self.args.seconds, log_dir=self.state_dir
            )
            self.results["pgbench"][clients] = figures
            if not figures["consistent"]:
                self.failures.append(f"pgbench c={clients}: naive counts differ {figures['counts']}")

    def reads(self, server: Server) -> None:
        polls = [phase for phase in self.results["hot"] if phase["voters"] == "account"]
        if polls:  # a poll with thousands of votes, like a hot one
            poll_id = polls[-1]["poll_id"]
            from polls.models import Poll

            poll = {"id": poll_id, "slug": Poll.objects.values_list("slug", flat=True).get(pk=poll_id)}
        else:
            poll = prepare.make_poll(author=self.author, title="Read poll")
        for kind, path in (("api", f"/api/polls/{poll['id']}"), ("page", f"/p/{poll['slug']}/")):
            say(f"reads {path}, 64 connections, {self.args.read_seconds}s")
            phase = reads.read_phase(
                server, database_url=self.database_url, poll=poll, kind=kind, path=path, connections=64,
                seconds=self.args.read_seconds,
            )  # fmt: skip
            self.results["reads"].append(phase)
            say(f"  {phase['wanted']} reads, {phase['writing_transactions']} writing transactions, views_count +{phase['views_count_moved']}")
            if phase["wanted"] == 0:
                self.failures.append(f"reads {kind}: no 200 ({phase['statuses']})")

    def ranked_count(self, server: Server) -> None:
        """A ranked poll of 10 options with --ranked-ballots ballots: the full recount's time, then its counted
        results read through the server against a single-choice poll's GET /api/polls/{id}, same load."""
        poll = prepare.make_poll(author=self.author, title="Ranked count", method="ranked", options=ranked.CITIES)
        say(f"ranked count: writing {self.args.ranked_ballots} ranked ballots on 10 options")
        figures = ranked.fill(self.database_url, poll, ballots=self.args.ranked_ballots)
        say(f"  {figures['vote_rows']} vote rows in {figures['fill_seconds']}s; timing the full recount")
        figures |= ranked.time_recount(self.database_url, poll["id"])
        say(f"  recount {figures['recount_seconds']}s (median of {figures['recount_seconds_each']}), "
            f"fetching the rows alone {figures['fetch_rows_seconds']}s, {figures['rounds']} rounds")  # fmt: skip
        if not figures["exact"]:
            self.failures.append(f"ranked count: the recount disagrees with the counters ({figures['counted_ballots']} ballots)")
        single = prepare.make_poll(author=self.author, title="Single-choice read")
        for kind, path, read_poll in (
            ("single-choice poll", f"/api/polls/{single['id']}", single),
            ("ranked results (cached)", f"/api/polls/{poll['id']}/results", poll),
        ):
            # One read first: the phase measures reading counted results, not the count the first reader waits for.
            with urllib.request.urlopen(f"http://{server.host}:{server.port}{path}", timeout=120) as first:
                first.read()
            say(f"reads {path}, 64 connections, {self.args.read_seconds}s")
            phase = reads.read_phase(
                server, database_url=self.database_url, poll=read_poll, kind=kind, path=path, connections=64,
                seconds=self.args.read_seconds,
            )  # fmt: skip
            figures[kind] = phase
            say(f"  {phase['wanted']} reads, p50 {phase['p50_ms']:.1f} ms, p99 {phase['p99_ms']:.1f} ms, errors {_errors(phase['errors'])}")
            if phase["wanted"] == 0:
                self.failures.append(f"ranked count: no 200 from {path} ({phase['statuses']})")
        self.results["ranked_count"] = figures

    def scale_out(self, server: Server, workers: int) -> None:
        record: list = []
        self.vote_phase(server, "account", 64, record=record)
        self.results["scale_out"][workers] = record[0]

    # --- WebSockets (bench/sockets.py) ---------------------------------------------------------

    def _sockets(self, name: str, make_coroutine, server: Server) -> None:
        figures = {"server": server.socket_server, **run(asyncio.wait_for(make_coroutine(), SOCKET_SECTION_TIMEOUT))}
        self.results["sockets"].setdefault(name, []).append(figures)

    @server_metrics.watched("sockets fan-out", sockets=True)
    def fanout(self, server: Server) -> None:
        for subscribers in self.args.fanout:
            poll = prepare.make_poll(author=self.author, title=f"Fan-out {subscribers}")
            say(f"sockets fan-out: {subscribers} subscribers")
            self.section(
                f"fan-out {subscribers}",
                self._sockets,
                "fanout",
                lambda poll=poll, subscribers=subscribers: sockets.fanout(
                    host=server.host, port=server.port, poll_id=poll["id"], option_ids=poll["option_ids"],
                    subscribers=subscribers, votes_per_second=self.args.fanout_votes_per_second,
                    seconds=self.args.fanout_seconds, db_total=self.db_total(poll["id"]),
                    server_pids=server.socket_pids,
                ),
                server,
            )  # fmt: skip

    def reveal(self, server: Server) -> None:
        poll = prepare.make_poll(author=self.author, title="Presenter reveal")
        say(f"sockets presenter reveal: {self.args.reveal} audience sockets, results hidden, then revealed over the API")
        self._sockets(
            "reveal",
            lambda: sockets.reveal(
                host=server.host, port=server.port, poll_id=poll["id"], token=prepare.access_token(self.author),
                subscribers=self.args.reveal,
            ),
            server,
        )  # fmt: skip

    def idle(self, server: Server) -> None:
        poll = prepare.make_poll(author=self.author, title="Idle sockets")
        say(f"sockets idle: {self.args.idle} connections on one process (pid {server.pid})")
        self._sockets(
            "idle_connections",
            lambda: sockets.idle_connections(
                host=server.host, port=server.port, server_pid=server.pid, poll_id=poll["id"], count=self.args.idle
            ),
            server,
        )

    def cross_process(self, single: Server) -> None:
        other = self.server(f"second-{single.socket_server}", 1, socket_server=single.socket_server)
        try:
            poll = prepare.make_poll(author=self.author, title="Cross-process")
            say("sockets cross-process: subscriber on one server, vote on another")
            self._sockets(
                "cross_process",
                lambda: sockets.cross_process(
                    a=(single.host, single.port), b=(other.host, other.port), poll_id=poll["id"], option_ids=poll["option_ids"]
                ),
                single,
            )
        finally:
            self.stop(other)

    # --- verdicts ----------------------------------------------------------------------------

    def check_server_logs(self) -> None:
        """Errors and warnings in the server logs, grouped by message: evidence to read next to the figures."""
        found = {}
        for path in sorted(self.state_dir.glob("server-*.log")):
            counts: Counter = Counter()
            lines = 0
            with open(path, errors="replace") as log:
                for line in log:
                    lines += 1
                    level, event = _log_entry(line)
                    if level in ("error", "critical", "warning"):
                        counts[(level, _UUID.sub("<id>", event)[:160])] += 1
            found[path.name] = {
                "lines": lines,
                "errors": sum(n for (level, _), n in counts.items() if level != "warning"),
                "warnings": sum(n for (level, _), n in counts.items() if level == "warning"),
                "top": [{"level": level, "event": event, "count": n} for (level, event), n in counts.most_common(5)],
            }
        self.results["server_logs"] = found

    def targets(self) -> list[dict]:
        targets = []

        def add(name, value, passed, detail=""):
            targets.append({"target": name, "value": value, "pass": passed, "detail": detail})

        hot_phases = {(p["voters"], p["connections"]): p for p in self.results["hot"]}
        for voters in ("account", "anonymous"):
            at64 = hot_phases.get((voters, 64))
            if at64 is None:
                continue
            rate = at64["wanted_per_second"]
            trivial = self.results["trivial"].get(64)
            if trivial:
                ratio = rate / trivial["wanted_per_second"]
                add(f"{voters}: accepted votes/s >= 0.33x trivial view at 64 conns", f"{ratio:.2f}x", ratio >= 0.33,
                    f"{rate:.0f} votes/s against {trivial['wanted_per_second']:.0f} req/s; server CPU {at64['server_cpu_ms']} ms "
                    f"per vote against {trivial['server_cpu_ms']} ms per trivial request")  # fmt: skip
            add(f"{voters}: p99 < 250 ms at 64 conns", f"{at64['p99_ms']:.0f} ms", at64["p99_ms"] < 250)
            best = max((hot_phases[(voters, c)]["wanted_per_second"] for c in (8, 32) if (voters, c) in hot_phases), default=0)
            if best:
                add(f"{voters}: 64 conns within 20% of best of 8/32", f"{rate / best:.2f}x of {best:.0f}/s", rate >= 0.8 * best)
            pgbench = self.results["pgbench"].get(64)
            if pgbench:
                ratio = rate / pgbench["tps"]
                add(f"{voters}: >=1.0x pgbench naive tps at 64", f"{ratio:.2f}x of {pgbench['tps']:.0f} tps", ratio >= 1.0)
        by_wrk = self.results["wrk"]
        if by_wrk:
            rate = by_wrk["wanted_per_second"]
            add("wrk, account voters: >= 800 accepted votes/s at 64 conns", f"{rate:.0f}/s", rate >= 800,
                f"p99 {by_wrk['p99_ms']:.0f} ms; server CPU {by_wrk['server_cpu_ms']} ms per vote")  # fmt: skip
        scale = self.results["scale_out"]
        if 1 in scale and 2 in scale:
            ratio = scale[2]["wanted_per_second"] / scale[1]["wanted_per_second"]
            add("scale-out: 2 HTTP processes >= 1.7x one", f"{ratio:.2f}x", ratio >= 1.7,
                f"{scale[2]['wanted_per_second']:.0f} against {scale[1]['wanted_per_second']:.0f} votes/s")  # fmt: skip
        counted = self.results["ranked_count"]
        if "recount_seconds" in counted:
            add(f"ranked: recount of {counted['ballots']} ballots <= 1 s", f"{counted['recount_seconds']} s",
                counted["recount_seconds"] <= 1.0, f"fetching the rows alone: {counted['fetch_rows_seconds']} s")  # fmt: skip
        cached, single = counted.get("ranked results (cached)"), counted.get("single-choice poll")
        if cached and single and single["wanted_per_second"]:
            ratio = cached["wanted_per_second"] / single["wanted_per_second"]
            add("ranked: cached results read >= 0.8x single-choice read at 64", f"{ratio:.2f}x", ratio >= 0.8,
                f"{cached['wanted_per_second']:.0f} vs {single['wanted_per_second']:.0f} req/s")  # fmt: skip
        trivial64 = self.results["trivial"].get(64)
        for phase in self.results["reads"]:
            if trivial64:
                ratio = phase["wanted_per_second"] / trivial64["wanted_per_second"]
                wanted = READ_TARGETS[phase["kind"]]
                add(f"read {phase['kind']}: >={wanted}x trivial view at 64", f"{ratio:.2f}x", ratio >= wanted,
                    f"server CPU {phase.get('server_cpu_ms', '-')} ms per read against {trivial64['server_cpu_ms']} ms")  # fmt: skip
            # Reads write nothing themselves; each HTTP process flushes its view counts every FLUSH_INTERVAL.
            from polls.viewcounts import FLUSH_INTERVAL

            flushes = MAIN_WORKERS * (math.ceil(phase["seconds"] / FLUSH_INTERVAL) + 1)
            add(f"read {phase['kind']}: no database write per read", f"{phase['writes_per_read']}",
                phase["writing_transactions"] <= flushes,
                f"{phase['writing_transactions']} writing transactions (view-count flushes, at most {flushes}) "
                f"for {phase['wanted']} reads")  # fmt: skip
        for figures in self.results["sockets"].get("fanout", []):
            if "latency_p99_ms" in figures:
                limit = 250 if figures["subscribers"] <= 1000 else 1000
                add(f"fan-out {figures['subscribers']} subscribers ({figures['server']}): p99 <= {limit} ms", f"{figures['latency_p99_ms']} ms",
                    figures["latency_p99_ms"] <= limit and figures["final_total_matched"] == figures["held"],
                    f"{figures['final_total_matched']} of {figures['held']} on the final count; "
                    f"{figures.get('server_cpu_us_per_message', '-')} µs of socket-process CPU per update")  # fmt: skip
        for figures in self.results["sockets"].get("reveal", []):
            if "reveal_p99_ms" in figures:
                limit = 250 if figures["subscribers"] <= 1000 else 1000  # as fan-out's
                add(f"presenter reveal to {figures['subscribers']} audience sockets: p99 <= {limit} ms, every one revealed",
                    f"{figures['reveal_p99_ms']} ms (last {figures['reveal_last_ms']} ms)",
                    figures["reveal_p99_ms"] <= limit and figures["not_revealed"] == 0 and figures["hidden_on_open"] == figures["held"],
                    f"{figures['revealed']} of {figures['hidden_on_open']} hidden sockets revealed")  # fmt: skip
        for figures in self.results["sockets"].get("idle_connections", []):
            if "kib_per_connection" in figures:
                value = figures["kib_per_connection"]
                add(f"idle socket ({figures['server']}): <= 64 KiB per connection", f"{value} KiB", not math.isnan(value) and value <= 64)
        for figures in self.results["sockets"].get("cross_process", []):
            if "seen" in figures:
                add(f"cross-process ({figures['server']}): a vote on one server reaches a subscriber on another", f"{figures.get('seen_after_ms')} ms", bool(figures["seen"]))
        return targets


# --- output ------------------------------------------------------------------------------------

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _log_entry(line: str) -> tuple[str, str]:
    """(level, message) of a server log line: QuickPoll's JSON lines, or uvicorn's own "LEVEL: message"."""
    if line.startswith("{"):
        try:
            entry = json.loads(line)
        except ValueError:
            return "", ""
        return str(entry.get("level", "")).lower(), str(entry.get("event", ""))
    level, colon, message = line.partition(":")
    if colon and level in ("ERROR", "WARNING", "CRITICAL"):
        return level.lower(), message.strip()
    return "", ""



def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def machine(database_url: str) -> dict:
    parts = urlsplit(database_url)
    with psycopg.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres", dbname="postgres") as connection:
        pg_version = connection.execute("SHOW server_version").fetchone()[0]
        fsync = connection.execute("SHOW fsync").fetchone()[0]
        synchronous_commit = connection.execute("SHOW synchronous_commit").fetchone()[0]
    try:
        import redis

        redis_version = redis.Redis.from_url(os.environ["REDIS_URL"]).info()["redis_version"]
    except Exception as error:  # only for the header
        redis_version = f"unknown ({error})"
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip()
    with open("/proc/meminfo") as meminfo:
        memory_gib = int(meminfo.readline().split()[1]) / 1024 / 1024
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": _cpu_model(),
        "memory_gib": round(memory_gib, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "postgresql": pg_version,
        "postgresql_fsync": fsync,
        "postgresql_synchronous_commit": synchronous_commit,
        "redis": redis_version,
        "kernel": platform.release(),
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_header(info: dict) -> None:
    print("=" * 100)
    print("QuickPoll benchmark")
    print(f"  machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory_gib']} GiB, load average {info['load_average']}, Linux {info['kernel']}")
    print(f"  Python {info['python']}, PostgreSQL {info['postgresql']} (fsync={info['postgresql_fsync']}, "
          f"synchronous_commit={info['postgresql_synchronous_commit']}), Redis {info['redis']}")  # fmt: skip
    print(f"  QuickPoll {info['commit']}, {info['date']}")
    print("=" * 100, flush=True)


def _table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.rjust(width) if i else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths))) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _ratio(value, baseline) -> str:
    return f"{value / baseline:.2f}x" if baseline else "n/a"


def _errors(errors: dict) -> str:
    return ", ".join(f"{status}:{n}" for status, n in errors.items()) or "-"


def print_tables(results: dict, targets: list[dict]) -> None:
    print()
    print(f"1. Hot poll: one fresh poll per phase, {results['settings']['vote_seconds']}s each, distinct voters, random option")
    print("   baselines: pgbench naive vote transaction (same PostgreSQL, own tables), trivial view (same server and client)")
    rows = []
    for phase in results["hot"] + ([results["wrk"]] if results["wrk"] else []):
        c = phase["connections"]
        pgbench = results["pgbench"].get(c, {})
        trivial = results["trivial"].get(c, {})
        counts = phase["counts"]
        rows.append([
            phase["voters"], c, f"{phase['wanted_per_second']:.0f}", f"{phase['p50_ms']:.1f}", f"{phase['p99_ms']:.1f}",
            _errors(phase["errors"]),
            f"{pgbench.get('tps', 0):.0f}" if pgbench else "n/a", _ratio(phase["wanted_per_second"], pgbench.get("tps")),
            f"{trivial.get('wanted_per_second', 0):.0f}" if trivial else "n/a",
            _ratio(phase["wanted_per_second"], trivial.get("wanted_per_second")),
            f"{phase['wanted']}={counts['total_votes']}={counts['option_sum']}={counts['vote_rows']}",
            "ok" if phase["consistent"] else "MISMATCH", phase.get("server_cpu_ms", "-"),
        ])  # fmt: skip
    print(_table(
        ["voters", "conns", "votes/s", "p50 ms", "p99 ms", "errors", "pgbench tps", "x pgbench", "trivial req/s",
         "x trivial", "201s=poll=options=rows", "check", "server cpu ms/vote"], rows))  # fmt: skip
    if results["hot_ranked"]:
        print()
        print("   ranked poll: partial rankings in random orders; every 201 one ballot and one first preference")
        rows = [
            [phase["voters"], phase["connections"], f"{phase['wanted_per_second']:.0f}", f"{phase['p50_ms']:.1f}",
             f"{phase['p99_ms']:.1f}", _errors(phase["errors"]),
             _ratio(phase["wanted_per_second"], results["trivial"].get(phase["connections"], {}).get("wanted_per_second")),
             f"{phase['wanted']}={phase['counts']['ballot_rows']}={phase['counts']['rank_one_rows']}="
             f"{phase['counts']['total_votes']}={phase['counts']['option_sum']}",
             "ok" if phase["consistent"] else "MISMATCH"]
            for phase in results["hot_ranked"]
        ]  # fmt: skip
        print(_table(["voters", "conns", "ballots/s", "p50 ms", "p99 ms", "errors", "x trivial",
                      "201s=ballots=rank-1 rows=poll=first prefs", "check"], rows))  # fmt: skip
    baseline_rows = []
    for c in CONCURRENCY:
        pgbench = results["pgbench"].get(c)
        trivial = results["trivial"].get(c)
        if pgbench:
            baseline_rows.append([f"pgbench naive vote c={c}", f"{pgbench['tps']:.0f} tps", f"{pgbench['p50_ms']:.1f}", f"{pgbench['p99_ms']:.1f}",
                                  f"failed {pgbench['failed']}", "ok" if pgbench["consistent"] else "MISMATCH"])  # fmt: skip
        if trivial:
            baseline_rows.append([f"trivial view c={c}", f"{trivial['wanted_per_second']:.0f} req/s", f"{trivial['p50_ms']:.1f}",
                                  f"{trivial['p99_ms']:.1f}", _errors(trivial["errors"]),
                                  f"client cpu {trivial['client_cpu']}, server cpu {trivial['server_cpu_ms']} ms/req"])  # fmt: skip
    if baseline_rows:
        print()
        print(_table(["baseline", "rate", "p50 ms", "p99 ms", "errors", "note"], baseline_rows))

    if results["reads"]:
        print()
        trivial64 = results["trivial"].get(64, {})
        print(f"2. Reads: 64 connections, {results['settings']['read_seconds']}s each, against the trivial view at 64 "
              f"({trivial64.get('wanted_per_second', 0):.0f} req/s)")  # fmt: skip
        rows = [
            [phase["kind"], phase["path"], f"{phase['wanted_per_second']:.0f}", f"{phase['p50_ms']:.1f}", f"{phase['p99_ms']:.1f}",
             _errors(phase["errors"]), _ratio(phase["wanted_per_second"], trivial64.get("wanted_per_second")),
             phase["writing_transactions"], phase["writes_per_read"], phase["views_count_moved"], phase["server_cpu_ms"]]
            for phase in results["reads"]
        ]  # fmt: skip
        print(_table(["read", "path", "req/s", "p50 ms", "p99 ms", "errors", "x trivial", "writing txns", "writes/read",
                      "views_count +", "server cpu ms/read"], rows))  # fmt: skip

    counted = results["ranked_count"]
    if counted:
        print()
        print(f"2b. Ranked count: {counted.get('ballots')} ranked ballots on 10 options ({counted.get('vote_rows')} vote rows)")
        if "recount_seconds" in counted:
            print(f"   full recount (polls.tallies.count, database read included): {counted['recount_seconds']} s, "
                  f"{_ratio(counted['recount_seconds'], counted['fetch_rows_seconds'])} the time to fetch the rows alone "
                  f"({counted['fetch_rows_seconds']} s); {counted['rounds']} rounds; agrees with the counters: "
                  f"{'yes' if counted['exact'] else 'NO'}")  # fmt: skip
        single = counted.get("single-choice poll", {})
        rows = [
            [kind, phase["path"], f"{phase['wanted_per_second']:.0f}", f"{phase['p50_ms']:.1f}", f"{phase['p99_ms']:.1f}",
             _errors(phase["errors"]), _ratio(phase["wanted_per_second"], single.get("wanted_per_second")),
             phase["writing_transactions"]]
            for kind in ("single-choice poll", "ranked results (cached)")
            if (phase := counted.get(kind))
        ]  # fmt: skip
        if rows:
            print(_table(["read at 64 conns", "path", "req/s", "p50 ms", "p99 ms", "errors", "x single-choice", "writing txns"], rows))

    scale = results["scale_out"]
    if scale:
        print()
        print(f"3. Scale-out: hot poll, account voters, 64 connections, {results['settings']['vote_seconds']}s, per WEB_CONCURRENCY")
        rows = [
            [workers, f"{phase['wanted_per_second']:.0f}", f"{phase['p50_ms']:.1f}", f"{phase['p99_ms']:.1f}", _errors(phase["errors"]),
             _ratio(phase["wanted_per_second"], scale.get(1, {}).get("wanted_per_second")), "ok" if phase["consistent"] else "MISMATCH"]
            for workers, phase in sorted(scale.items())
        ]  # fmt: skip
        print(_table(["processes", "votes/s", "p50 ms", "p99 ms", "errors", "x 1 process", "check"], rows))

    print()
    print("4. WebSockets (bench/sockets.py)")
    if not results["sockets"]:
        print("   not run")
    for name, runs in results["sockets"].items():
        for figures in runs:
            label = name + (f" {figures['subscribers']}" if "subscribers" in figures else "")
            shown = {key: value for key, value in figures.items() if key not in ("failures",)}
            print(f"   {label}: " + ", ".join(f"{key}={value}" for key, value in shown.items()))

    modes = results["modes"]
    if modes:
        print()
        print("5. Modes: bin/production (nginx, granian WSGI for HTTP, bin/sockets) against bin/single (one granian ASGI "
              "server), same WEB_CONCURRENCY, 64 connections")  # fmt: skip
        rows = []
        for command, figures in modes.items():
            votes, trivial, fanout = figures.get("votes", {}), figures.get("trivial", {}), figures.get("fanout", {})
            rows.append([
                f"bin/{command}", figures["workers"],
                f"{votes.get('wanted_per_second', 0):.0f}", f"{votes.get('p99_ms', 0):.1f}",
                f"{trivial.get('wanted_per_second', 0):.0f}", f"{trivial.get('p99_ms', 0):.1f}",
                f"{fanout.get('subscribers', '-')}", f"{fanout.get('latency_p50_ms', '-')}", f"{fanout.get('latency_p99_ms', '-')}",
                "ok" if votes.get("consistent") else "MISMATCH",
            ])  # fmt: skip
        print(_table(["mode", "processes", "votes/s", "p99 ms", "trivial req/s", "p99 ms", "fan-out subs", "p50 ms",
                      "p99 ms", "201s=rows"], rows))  # fmt: skip

    print()
    print("Targets")
    print(_table(["target", "measured", "pass", "detail"], [[t["target"], t["value"], "PASS" if t["pass"] else "FAIL", t["detail"]] for t in targets]))
    logs = results.get("server_logs", {})
    if logs:
        print()
        print("Server logs (in the state directory)")
        for name, summary in logs.items():
            print(f"  {name}: {summary['lines']} lines, {summary['errors']} errors, {summary['warnings']} warnings")
            for entry in summary["top"]:
                print(f"    {entry['count']:>6} x {entry['level']}: {entry['event']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", default=os.environ.get("QUICKPOLL_CI_STATE_DIR", "/tmp/quickpoll-bench"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("QUICKPOLL_BENCH_PORT", "18100")))
    parser.add_argument("--seconds", type=float, default=20, help="each vote phase and each pgbench run")
    parser.add_argument("--trivial-seconds", type=float, default=10)
    parser.add_argument("--read-seconds", type=float, default=12)
    parser.add_argument("--voters", type=int, default=50_000, help="accounts made (reused across polls)")
    parser.add_argument("--fanout", type=int, nargs="*", default=[1000, 5000], help="subscriber counts")
    parser.add_argument("--fanout-seconds", type=float, default=10)
    parser.add_argument("--fanout-votes-per-second", type=float, default=50)
    parser.add_argument("--reveal", type=int, default=1000, help="audience sockets in the presenter-reveal case")
    parser.add_argument("--idle", type=int, default=5000, help="idle sockets on one process")
    parser.add_argument("--ranked-ballots", type=int, default=100_000, help="ballots in the ranked count")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 3 s phases, fewer voters and sockets")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS), help="run these sections alone")
    parser.add_argument("--socket-servers", nargs="+", choices=("uvicorn", "granian"), default=["uvicorn"],
                        help="bin/sockets' SOCKET_SERVER; the socket figures are measured under each, in this order")  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        args.seconds = args.trivial_seconds = args.read_seconds = 3
        args.voters = min(args.voters, 10_000)
        args.fanout, args.fanout_seconds, args.idle, args.reveal = [200], 3, 500, 200
    args.seconds = int(args.seconds)  # pgbench -T takes whole seconds
    # A TERM (bench/run's trap, a CI timeout) unwinds through the finally blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench = Bench(args)
    try:
        return bench.run()
    finally:
        for server in list(bench.servers):
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
