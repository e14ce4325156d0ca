"""Scale-out: two complete QuickPoll stacks on two addresses, sharing PostgreSQL and Redis, behind one balancer.

Stack A (bin/production on 127.0.0.2) and stack B (on 127.0.0.3), as two machines would run it, and
a front nginx on 127.0.0.1 from deploy/balancer.conf.template balancing between them, round robin.
Checked:
- a socket opened on stack A directly sees a vote sent to stack B directly;
- a socket opened through the balancer (a WebSocket upgrade through two nginx) gets its updates;
- votes through the balancer are all answered 201, and both stacks took some;
- per poll: 201s == Ballot rows == Vote rows == total_votes == sum(option.vote_count).
"""

import os
import shutil
import subprocess
import time
from collections import Counter

import harness
from harness import Attempt, Client, Load, Server, Watcher, say

STACK_HOSTS = ("127.0.0.2", "127.0.0.3")  # all of 127.0.0.0/8 is loopback on Linux, no alias needed
LOAD_SECONDS = 5.0


class Balancer:
    """The front nginx, from deploy/balancer.conf.template, as an operator fills it in."""

    name = "balancer"
    host = "127.0.0.1"

    def __init__(self, stacks: list[Server]):
        self.port = harness.free_port()
        self.stacks = stacks
        self.run_dir = harness.WORK_DIR / "balancer"
        self.access_log = self.run_dir / "access.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Balancer":
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self.run_dir.mkdir(parents=True)
        variables = {
            "RUN_DIR": str(self.run_dir),
            "BALANCER_LISTEN": f"{self.host}:{self.port}",
            "BALANCER_UPSTREAMS": " ".join(f"server {stack.host}:{stack.port};" for stack in self.stacks),
            "BALANCER_ACCESS_LOG": str(self.access_log),
        }
        config = subprocess.run(
            ["envsubst", " ".join(f"${{{name}}}" for name in variables)],
            stdin=(harness.REPO / "deploy" / "balancer.conf.template").open(),
            env={**os.environ, **variables},
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
        (self.run_dir / "balancer.conf").write_text(config)
        with (self.run_dir / "nginx.log").open("a") as output:
            self.process = subprocess.Popen(
                ["nginx", "-e", "stderr", "-c", str(self.run_dir / "balancer.conf"), "-g", "daemon off;"],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not harness.wait_for(lambda: self.process.poll() is not None or harness._port_open(self.port), 10):
            raise RuntimeError("the balancer did not listen")
        if self.process.poll() is not None:
            raise RuntimeError(f"the balancer exited: {(self.run_dir / 'nginx.log').read_text()}")
        return self

    @property
    def ws(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def votes_per_stack(self) -> Counter:
        """Votes the balancer passed to each stack, from its access log."""
        served = Counter()
        for line in self.access_log.read_text().splitlines():
            if '"POST /api/votes ' in line:
                served[line.split()[-2]] += 1  # $upstream_addr
        return served

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def main() -> int:
    problems: list[str] = []
    started = time.monotonic()
    harness.migrate()
    stack_env = {"ALLOWED_HOSTS": ",".join(("127.0.0.1", *STACK_HOSTS))}
    stacks = [
        Server(f"scale-out-{letter}", env={**stack_env, "HOST": host}) for letter, host in zip("ab", STACK_HOSTS)
    ]
    stack_a, stack_b = stacks
    balancer = Balancer(stacks)
    load = across = through_front = None
    try:
        for stack in stacks:
            stack.launch()
        for stack in stacks:
            stack.wait_ready()
        balancer.start()
        say(f"stack A on {stack_a.host}:{stack_a.port}, stack B on {stack_b.host}:{stack_b.port}, balancer on {balancer.host}:{balancer.port}")
        client = Client(balancer.port)
        token, _ = harness.register_author(client, "scaleout")
        polls = harness.create_polls(client, token, 2, "Scale-out")
        for stack in stacks:
            stack.wait_sockets()

        # A vote taken by stack B, seen on a socket held by stack A: they meet only in Redis.
        across = Watcher(f"{stack_a.ws}/ws/poll/{polls[0]['id']}").start()
        through_front = Watcher(f"{balancer.ws}/ws/poll/{polls[1]['id']}").start()
        time.sleep(0.3)  # the first snapshots in
        direct = Attempt("vote", polls[0]["id"], polls[0]["options"][0]["id"], f"scale-out-direct-{harness.random_token(8)}", "", time.monotonic())
        on_b = Client(stack_b.port, host=stack_b.host)
        harness.send(on_b, direct, stack_b.name)
        on_b.close()
        seen = harness.wait_for(lambda: across.count(direct.finished) > 0, harness.SOCKET_TIMEOUT, interval=0.02)
        seen_after = (min(at for at in across.snapshots if at >= direct.finished) - direct.started) if seen else None

        load = Load([balancer], polls, threads=12, name="scaleout").start(LOAD_SECONDS + 20)
        time.sleep(LOAD_SECONDS)
        load.stop()
        harness.wait_for(lambda: through_front.count(started) > 1, harness.SOCKET_TIMEOUT)
    finally:
        for watcher in (across, through_front):
            if watcher is not None:
                watcher.stop()
        if load is not None:
            load.stop()
        balancer.stop()
        harness.stop_all(stacks)

    if direct.status != 201:
        problems.append(f"the vote sent to stack B directly was answered {direct.status} {direct.code}")
    if seen_after is None:
        problems.append("the socket on stack A never saw the vote sent to stack B")
    front_updates = max(through_front.count(0) - 1, 0)
    if not front_updates:
        problems.append("the socket opened through the balancer got no update")
    others = [a for a in load.attempts if a.status != 201]
    if others:
        problems.append(f"votes through the balancer answered other than 201: {harness.describe(others)}")
    per_stack = balancer.votes_per_stack()
    served = {stack.name: per_stack[f"{stack.host}:{stack.port}"] for stack in stacks}
    if not all(served.values()):
        problems.append(f"the balancer passed votes to one stack only: {served}")
    crashes = sum(stack.crashes() for stack in stacks)
    if crashes:
        problems.append(f"{crashes} crashes in the stacks' logs")

    votes = harness.accepted(load.attempts, "vote") + ([direct] if direct.status == 201 else [])
    harness.django_setup()
    count_problems, totals = harness.check_counts(polls, votes, [])
    problems += count_problems

    say(f"requests through the balancer: {harness.describe(load.attempts)}; per stack: {served}")
    say(f"took {time.monotonic() - started:.1f} s")
    line = (
        f"faults: scale-out, two stacks behind a balancer: a vote on stack B seen on a socket on stack A "
        f"{f'after {seen_after * 1000:.0f} ms' if seen_after is not None else 'never'}, "
        f"{len(votes)} votes ({served[stack_a.name]} via A, {served[stack_b.name]} via B, 1 direct), "
        f"counts exact: {'no' if count_problems else 'yes'}, {totals['lost']} lost, "
        f"{front_updates} updates on a socket through the balancer, "
        f"{len(harness.server_errors(load.attempts)) + crashes} server errors"
    )
    return harness.finish(line, problems)


if __name__ == "__main__":
    harness.run(main, "scale-out")
