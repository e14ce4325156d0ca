"""Fault: Redis stops in the middle of a run, then comes back.

Anonymous voters vote and like through one server the whole time, with rate limiting
switched on (limits too high to reach) so that the limits go through Redis. Checked:
- every vote and like answers 201, before, during and after the outage; no 5xx;
- during the outage the rate limits fail open: requests are served and not counted
  (X-RateLimit-Remaining stays at the limit), none is refused with 429;
- /health says "degraded" (200) while Redis is down and "ok" once it is back;
- a /ws/poll socket opened during the outage still gets its snapshot, and one opened
  after Redis is back gets live snapshots again;
- the database holds every accepted vote and like, counters equal to the rows.
"""

import time

import harness
from harness import Client, Load, Server, Watcher, say

OUTAGE_SECONDS = 4.0
RECOVERY_TIMEOUT = 15.0  # seconds for /health to be "ok" again once Redis is back
HIGH_LIMIT = 1_000_000  # counted in Redis, never reached


def health(client: Client) -> tuple[int | str, str]:
    status, body = client.request("GET", "/health")
    return status, (body or {}).get("status", "?")


def header(attempt, name: str) -> int | None:
    for key, value in attempt.headers.items():
        if key.lower() == name.lower():
            return int(value)
    return None


def main() -> int:
    problems: list[str] = []
    started = time.monotonic()
    harness.migrate()
    server = Server(
        "redis-stop",
        env={
            "RATE_LIMIT_ENABLED": "true",
            "RATE_LIMIT_REQUESTS": str(HIGH_LIMIT),
            "RATE_LIMIT_VOTER_REQUESTS": str(HIGH_LIMIT),
        },
    )
    load = watcher = None
    stopped_at = back_at = float("inf")
    try:
        server.start()
        client = Client(server.port)
        token, _ = harness.register_author(client, "redisfault")
        polls = harness.create_polls(client, token, 3, "Redis stop")
        url = f"{server.ws}/ws/poll/{polls[0]['id']}"
        watcher = Watcher(url).start()
        load = Load([server], polls, threads=6, like_every=4, name="redis").start(max_seconds=40)
        time.sleep(2)

        say("stopping Redis")
        harness.redis_stop()
        stopped_at = time.monotonic()
        time.sleep(1)
        status, state = health(client)
        say(f"/health with Redis down: {status} {state}")
        if (status, state) != (200, "degraded"):
            problems.append(f"/health with Redis down answered {status} {state!r}, not 200 'degraded'")
        socket_during = harness.socket_greeting(url)
        if socket_during != "results":
            problems.append(f"a socket opened while Redis was down got {socket_during!r}, not its snapshot")
        time.sleep(max(stopped_at + OUTAGE_SECONDS - time.monotonic(), 0))

        say("starting Redis")
        harness.redis_start()
        back_at = time.monotonic()
        if not harness.wait_for(lambda: health(client) == (200, "ok"), RECOVERY_TIMEOUT, interval=0.25):
            problems.append(f"/health not 'ok' {RECOVERY_TIMEOUT:.0f} s after Redis came back: {health(client)}")
        healthy_after = time.monotonic() - back_at

        newer = harness.live_snapshots(url)
        if not newer:
            problems.append("a socket opened after Redis came back got no live snapshot")
        time.sleep(1)
        load.stop()
        settled, outcomes = harness.settle(client.port, load.attempts)
    finally:
        if load is not None:
            load.stop()
        if watcher is not None:
            watcher.stop()
        harness.stop_all([server])
        try:
            if not harness.redis_ping():
                harness.redis_start()
        except Exception as exc:
            problems.append(f"could not restart Redis: {exc}")

    attempts = load.attempts
    outage = [a for a in attempts if a.started >= stopped_at and a.finished <= back_at]
    before = [a for a in attempts if a.finished < stopped_at]
    not_201 = [a for a in attempts if a.status != 201]
    crashes = server.crashes()
    errors = len(harness.server_errors(attempts)) + sum(a.status == harness.DROPPED for a in attempts) + crashes
    if not_201:
        problems.append(f"not every request answered 201: {harness.describe(not_201)}")
    if crashes:
        problems.append(f"{crashes} crashes in the server log {server.log}")
    if not harness.accepted(outage, "vote") or not harness.accepted(outage, "like"):
        problems.append("no vote or no like went through during the outage: it was not exercised")

    # Rate limits: counted in Redis before the outage, served uncounted (fail open) during it.
    limited = [a for a in attempts if a.status == 429]
    counted_before = [a for a in before if (header(a, "X-RateLimit-Remaining") or HIGH_LIMIT) < HIGH_LIMIT]
    open_during = [a for a in outage if a.status == 201 and header(a, "X-RateLimit-Remaining") == HIGH_LIMIT]
    if not counted_before:
        problems.append("the rate limits counted nothing before the outage: Redis was not in use")
    if limited or len(open_during) != len(outage):
        problems.append(f"rate limits did not fail open: {len(limited)} x 429, {len(open_during)}/{len(outage)} open")

    snapshots_before = watcher.count(0, stopped_at)
    snapshots_after = watcher.count(back_at)
    if snapshots_before == 0:
        problems.append("the first subscriber got no live snapshot before the outage")

    votes = harness.accepted(attempts, "vote") + [a for a in settled if a.kind == "vote"]
    likes = harness.accepted(attempts, "like") + [a for a in settled if a.kind == "like"]
    harness.django_setup()
    count_problems, totals = harness.check_counts(polls, votes, likes)
    problems += count_problems

    slowest = max((a.finished - a.started for a in outage), default=0.0)
    say(f"requests: {harness.describe(attempts)}")
    say(f"during the {back_at - stopped_at:.1f} s outage: {len(outage)} requests, slowest {slowest:.2f} s")
    say(f"rate limits: counted {len(counted_before)} requests before, failed open on {len(open_during)} during")
    say(f"/health ok {healthy_after:.1f} s after Redis came back")
    say(f"subscriber opened during the outage: {socket_during}; opened after: {newer} live snapshots")
    say(
        f"subscriber kept through the outage: {snapshots_before} snapshots before, "
        f"{watcher.count(stopped_at, back_at)} during, {snapshots_after} after"
        + (f", closed by the server ({watcher.closed_with})" if watcher.closed_with else "")
    )
    if outcomes:
        say(f"retried without a definite answer: {dict(outcomes)}")
    say(f"took {time.monotonic() - started:.1f} s")
    line = (
        f"faults: redis stopped mid-run: {len(harness.accepted(attempts, 'vote'))} votes and "
        f"{len(harness.accepted(attempts, 'like'))} likes accepted ({len(outage)} during the "
        f"{back_at - stopped_at:.0f} s outage, rate limits open), {totals['lost']} lost, {totals['double']} counted "
        f"twice, {errors} server errors, sockets live again after reconnect: {'yes' if newer else 'no'}"
    )
    return harness.finish(line, problems)


if __name__ == "__main__":
    harness.run(main, "redis stopped mid-run")
