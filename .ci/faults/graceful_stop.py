"""Fault: a server is stopped gracefully (SIGTERM to bin/production, as a supervisor does) under vote load.

Two servers (bin/production each) share PostgreSQL and Redis, as behind a load balancer; voters vote
and like through both, and sockets on the first follow a poll. The first is sent SIGTERM. Checked:
- it stops by itself, within its timeouts (no worker killed for refusing to stop);
- every request it read got its whole answer: none is left unanswered after it was counted (a retry
  by the same voter finds no 409 already_voted), no 5xx; a request it never read (its door closing)
  goes to the other server, as a load balancer would send it;
- per poll: 201s == Ballot rows == Vote rows == sum(option.vote_count) == total_votes;
- every socket on it was closed with 1012 (Service Restart), and reconnecting to the other server
  it is sent the poll's final count.
"""

import time

import harness
from harness import DROPPED, REFUSED, Client, Follower, Load, Server, say

STOP_AFTER = 2.5  # seconds of load before the SIGTERM
STEADY_SECONDS = 1.5  # load kept up on the survivor after the stopped server is gone
SOCKETS = 20
FINAL_COUNT_TIMEOUT = 8.0  # for every reconnected socket to be sent the final count


def main() -> int:
    problems: list[str] = []
    started = time.monotonic()
    harness.migrate()
    stopped, survivor = Server("graceful-a"), Server("graceful-b")
    load = None
    followers: list[Follower] = []
    took = float("nan")
    try:
        stopped.launch()
        survivor.launch()
        stopped.wait_ready().wait_sockets()
        survivor.wait_ready().wait_sockets()
        client = Client(survivor.port)
        token, _ = harness.register_author(client, "gracefulstop")
        polls = harness.create_polls(client, token, 3, "Graceful stop")
        followed = polls[0]["id"]
        followers = [
            Follower(f"{stopped.ws}/ws/poll/{followed}/", f"{survivor.ws}/ws/poll/{followed}/").start()
            for _ in range(SOCKETS)
        ]
        load = Load([stopped, survivor], polls, threads=8, like_every=4, name="graceful").start(max_seconds=40)
        time.sleep(STOP_AFTER)

        say(f"SIGTERM to {stopped.name} (pid {stopped.process.pid}) under load")
        took = stopped.terminate()
        say(f"{stopped.name} exited with {stopped.process.returncode} after {took:.1f} s")
        time.sleep(STEADY_SECONDS)
        load.stop()
        settled, outcomes = harness.settle(client.port, load.attempts)
        # The final count, as a socket reconnected to the survivor must show it.
        harness.django_setup()
        from polls.models import Poll

        final = Poll.objects.get(pk=followed).total_votes
        harness.wait_for(lambda: all(f.totals_after and f.totals_after[-1] == final for f in followers), FINAL_COUNT_TIMEOUT)
    finally:
        if load is not None:
            load.stop()
        for follower in followers:
            follower.stop()
        harness.stop_all([stopped, survivor])

    attempts = load.attempts
    on_stopped = [a for a in attempts if a.server == stopped.name]
    unanswered = [a for a in attempts if a.status == DROPPED]
    refused = [a for a in attempts if a.status == REFUSED]
    # A retry by the same voter says whether an unanswered request had been counted: 409 means it had.
    cut_off = outcomes["409 already_voted"] + outcomes["409 already_liked"]
    errors = harness.server_errors(attempts)
    other = [a for a in attempts if a.status not in (201, DROPPED) and a not in errors]
    if stopped.process.returncode not in (0, 143):
        problems.append(f"{stopped.name} exited with {stopped.process.returncode}")
    killed = [line for line in stopped.log_tail(400).splitlines() if "refused to gracefully stop" in line]
    if killed:
        problems.append(f"{stopped.name}: a worker was killed for not stopping in time: {killed[0]}")
    if cut_off:
        problems.append(f"{cut_off} requests were counted by {stopped.name} but their answer never arrived")
    if errors:
        problems.append(f"server errors: {harness.describe(errors)}")
    if other:
        problems.append(f"answers other than 201: {harness.describe(other)}")
    if refused:
        problems.append(f"{len(refused)} requests found no server at all")
    if harness.unsettled(outcomes):
        problems.append(f"{harness.unsettled(outcomes)} unanswered requests neither counted nor refused as duplicates on retry")
    crashes = stopped.crashes() + survivor.crashes()
    if crashes:
        problems.append(f"{crashes} crashes in the server logs")
    if not any(a.status == 201 for a in on_stopped):
        problems.append(f"{stopped.name} accepted no vote before its stop: the stop was not under load")

    codes = [code for follower in followers for code in follower.close_codes[:1]]
    not_restart = [code for code in codes if code != 1012]
    failures = [follower.failure for follower in followers if follower.failure]
    caught_up = sum(1 for follower in followers if follower.totals_after and follower.totals_after[-1] == final)
    if len(codes) != SOCKETS or not_restart:
        problems.append(f"sockets on {stopped.name} were closed with {sorted(map(str, codes))}, not {SOCKETS} x 1012")
    if failures:
        problems.append(f"{len(failures)} sockets could not reconnect: {failures[0]}")
    if caught_up != SOCKETS:
        seen = sorted({follower.totals_after[-1] if follower.totals_after else None for follower in followers}, key=str)
        problems.append(f"{SOCKETS - caught_up} reconnected sockets did not show the final count {final} (newest seen: {seen})")

    votes = harness.accepted(attempts, "vote") + [a for a in settled if a.kind == "vote"]
    likes = harness.accepted(attempts, "like") + [a for a in settled if a.kind == "like"]
    count_problems, totals = harness.check_counts(polls, votes, likes)
    problems += count_problems

    say(f"requests: {harness.describe(attempts)}")
    say(f"on {stopped.name}: {harness.describe(on_stopped)}; unanswered, retried by the same voter: {dict(outcomes) or 'none'}")
    say(f"took {time.monotonic() - started:.1f} s")
    line = (
        f"faults: graceful stop under load: stopped in {took:.1f} s, {len(harness.accepted(on_stopped, 'vote'))} votes "
        f"answered by it, {cut_off} counted without an answer, {len(unanswered) - cut_off} never read (sent elsewhere), "
        f"{totals['lost']} lost, {totals['double']} counted twice, {len(errors) + crashes} server errors; "
        f"sockets closed {codes.count(1012)}/{SOCKETS} with 1012, {caught_up}/{SOCKETS} saw the final count elsewhere"
    )
    return harness.finish(line, problems)


if __name__ == "__main__":
    harness.run(main, "graceful stop under load")
