"""Fault: one of two servers is killed (SIGKILL, every process of it) in the middle of the load, then replaced.

Two servers (bin/production each) share PostgreSQL and Redis, as behind a load balancer; voters
vote and like through both. One is killed with requests in flight; its voters move
to the survivor (as a load balancer would) until a replacement is up. Checked:
- the survivor and the replacement answer every request with 201, no 5xx;
- every vote and like that got a 201 is in the database;
- a request that lost its answer with the killed process is retried by the same
  voter: it counts now (201) or had already counted (409 already_voted), never twice;
- per poll: total_votes == sum(option.vote_count) == Vote rows == Ballot rows ==
  the votes accepted (201, or 409 on the retry of an unanswered one), so nothing
  half-written survived the kill and nothing was counted twice.
"""

import time

import harness
from harness import DROPPED, REFUSED, Client, Load, Server, say

KILL_AFTER = 2.5  # seconds of load before the kill
STEADY_SECONDS = 2.0  # load kept up once the replacement is serving


def main() -> int:
    problems: list[str] = []
    started = time.monotonic()
    harness.migrate()
    victim, survivor = Server("server-kill-a"), Server("server-kill-b")
    replacement = Server("server-kill-a2")
    load = None
    killed_at = replaced_at = float("inf")
    try:
        victim.launch()
        survivor.launch()
        victim.wait_ready()
        survivor.wait_ready()
        client = Client(survivor.port)
        token, _ = harness.register_author(client, "killfault")
        polls = harness.create_polls(client, token, 3, "Server kill")
        servers = [victim, survivor]
        load = Load(servers, polls, threads=8, like_every=4, name="kill").start(max_seconds=40)
        time.sleep(KILL_AFTER)

        say(f"SIGKILL to {victim.name} (pid {victim.process.pid})")
        victim.kill()
        killed_at = time.monotonic()
        replacement.start()
        servers[0] = replacement  # the load balancer learns of it
        replaced_at = time.monotonic()
        time.sleep(STEADY_SECONDS)
        load.stop()
        settled, outcomes = harness.settle(client.port, load.attempts)
    finally:
        if load is not None:
            load.stop()
        harness.stop_all([victim, survivor, replacement])

    attempts = load.attempts
    in_flight = [a for a in attempts if a.status == DROPPED]  # sent, and the answer never came
    refused = [a for a in attempts if a.status == REFUSED]
    other = [a for a in attempts if a.status not in (201, DROPPED)]
    on_victim = sum(1 for a in attempts if a.server == victim.name and a.status == 201)
    on_replacement = sum(1 for a in attempts if a.server == replacement.name and a.status == 201)
    crashes = survivor.crashes() + replacement.crashes()
    unresolved = harness.unsettled(outcomes)
    if other:
        problems.append(f"answers other than 201 (or none, from the killed process): {harness.describe(other)}")
    if refused:
        problems.append(f"{len(refused)} requests found no server at all")
    if crashes:
        problems.append(f"{crashes} crashes in the logs of {survivor.name} and {replacement.name}")
    if not in_flight:
        problems.append("no request was in flight on the killed process: the kill was not mid-load")
    if unresolved:
        problems.append(f"{unresolved} unanswered requests neither counted nor refused as duplicates on retry")
    live_drops = [a for a in in_flight if a.server != victim.name]
    if live_drops:
        problems.append(f"{len(live_drops)} requests lost their answer on a server that was not killed")
    if not on_replacement:
        problems.append("the replacement server accepted no vote")

    votes = harness.accepted(attempts, "vote") + [a for a in settled if a.kind == "vote"]
    likes = harness.accepted(attempts, "like") + [a for a in settled if a.kind == "like"]
    harness.django_setup()
    count_problems, totals = harness.check_counts(polls, votes, likes)
    problems += count_problems

    committed = outcomes["409 already_voted"] + outcomes["409 already_liked"]
    say(f"requests: {harness.describe(attempts)}")
    say(
        f"{on_victim} accepted by {victim.name} before the kill, {on_replacement} by its replacement "
        f"(serving {replaced_at - killed_at:.1f} s after the kill)"
    )
    say(f"unanswered when the process died, retried by the same voter: {dict(outcomes) or 'none'}")
    say(f"took {time.monotonic() - started:.1f} s")
    line = (
        f"faults: server killed mid-load: {len(harness.accepted(attempts, 'vote'))} votes and "
        f"{len(harness.accepted(attempts, 'like'))} likes accepted, {len(in_flight)} left unanswered by the killed "
        f"process (re-sent: {committed} already counted, {len(in_flight) - committed - unresolved} counted then), "
        f"{totals['lost']} lost, {totals['double']} counted twice, "
        f"{len(harness.server_errors(attempts)) + crashes} server errors"
    )
    return harness.finish(line, problems)


if __name__ == "__main__":
    harness.run(main, "server killed mid-load")
