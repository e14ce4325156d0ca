"""Fault: PostgreSQL stops (fast shutdown, as in a restart or failover) while the server runs, then returns.

Anonymous voters vote and like through one server the whole time. Checked:
- while PostgreSQL is down, requests answer 503 with code service_unavailable
  (the API and a page alike), never a 500 and never a dropped connection, and a
  socket opened then is closed with 4503 (come back soon), not failed with 500 or 1011;
- once PostgreSQL is back the server recovers by itself (connection health checks):
  requests succeed again within RECOVERY_TIMEOUT, and every request started after
  that answers 201; a subscriber that stayed connected gets live snapshots again,
  and so does one that opens after recovery;
- every vote and like that got a 201 is in the database, counters equal to the rows.
  Requests that got a 503 are retried by the same voter: each either counts now or
  was already counted (409), never twice.
"""

import time

import harness
from harness import Client, Load, Server, Watcher, say

GAP_SECONDS = 3.0  # how long PostgreSQL stays down
RECOVERY_TIMEOUT = 10.0  # seconds after PostgreSQL is back for votes to succeed again
STEADY_SECONDS = 2.0  # load kept up after recovery, every request of which must succeed


def main() -> int:
    problems: list[str] = []
    started = time.monotonic()
    harness.migrate()
    options = harness.postgres_options()
    server = Server("postgres-restart")
    load = watcher = None
    sockets_during: dict[str, str] = {}
    newer = 0
    stopped_at = back_at = recovered_at = float("inf")
    gap_answers: dict[str, tuple] = {}  # what a few reads got while PostgreSQL was down: (status, JSON body)
    try:
        server.start()
        client = Client(server.port)
        token, author_id = harness.register_author(client, "pgfault")
        polls = harness.create_polls(client, token, 3, "PostgreSQL restart")
        url = f"{server.ws}/ws/poll/{polls[0]['id']}"
        watcher = Watcher(url).start()
        load = Load([server], polls, threads=8, like_every=4, name="pg").start(max_seconds=40)
        time.sleep(2)

        say("stopping PostgreSQL")
        try:
            harness.postgres_stop()
            stopped_at = time.monotonic()
            time.sleep(1)
            gap_answers = {
                "GET /api/polls": client.request("GET", "/api/polls"),
                "GET /polls/": client.request("GET", "/polls/", headers={"Accept": "text/html"}),
                "GET /health": client.request("GET", "/health"),
            }
            paths = {"/ws/poll/{id}": f"/ws/poll/{polls[0]['id']}", "/ws/global": "/ws/global"}
            paths["/ws/user/{id}?token="] = f"/ws/user/{author_id}?token={token}"
            sockets_during = {name: harness.socket_greeting(server.ws + path) for name, path in paths.items()}
            time.sleep(max(stopped_at + GAP_SECONDS - time.monotonic(), 0))
        finally:
            say("starting PostgreSQL")
            harness.postgres_start(options)
        back_at = time.monotonic()

        def recovered() -> bool:
            return any(a.status == 201 for a in load.since(back_at))

        if harness.wait_for(recovered, RECOVERY_TIMEOUT):
            recovered_at = min(a.started for a in load.since(back_at) if a.status == 201)
        time.sleep(STEADY_SECONDS)
        newer = harness.live_snapshots(url)
        load.stop()
        settled, outcomes = harness.settle(client.port, load.attempts)
    finally:
        if load is not None:
            load.stop()
        if watcher is not None:
            watcher.stop()
        harness.stop_all([server])
        try:
            if not harness.postgres_running():
                harness.postgres_start(options)
        except Exception as exc:
            problems.append(f"could not restart PostgreSQL: {exc}")

    attempts = load.attempts
    unavailable = [a for a in attempts if a.status == 503 and a.code == "service_unavailable"]
    other = [a for a in attempts if a.status not in (201, 503) or (a.status == 503 and a.code != "service_unavailable")]
    crashes = server.crashes()
    errors = len(harness.server_errors(attempts, allowed_503=True)) + sum(a.status == harness.DROPPED for a in attempts)
    if other:
        problems.append(f"answers other than 201 and 503 service_unavailable: {harness.describe(other)}")
    if crashes:
        problems.append(f"{crashes} crashes in the server log {server.log}")
    if not unavailable:
        problems.append("no request met the outage: the gap was not exercised")
    for what, (status, body) in gap_answers.items():
        if status != 503 or (what.startswith("GET /api/") and (body or {}).get("code") != "service_unavailable"):
            problems.append(f"{what} while PostgreSQL was down answered {status} {body}, not 503 service_unavailable")
    if recovered_at == float("inf"):
        problems.append(f"no vote succeeded within {RECOVERY_TIMEOUT:.0f} s of PostgreSQL coming back")
    steady = [a for a in attempts if a.started >= recovered_at + 1.0]
    failed_steady = [a for a in steady if a.status != 201]
    if failed_steady:
        problems.append(f"after recovery not every request succeeded: {harness.describe(failed_steady)}")
    if recovered_at != float("inf") and not steady:
        problems.append("no request was made after recovery")
    for path, greeting in sockets_during.items():
        if greeting != "closed 4503":
            problems.append(f"a socket opened on {path} while PostgreSQL was down got {greeting!r}, not 'closed 4503'")
    kept_after = watcher.count(recovered_at)
    if not kept_after:
        problems.append("the subscriber connected through the gap got no live snapshot after recovery")
    if not newer:
        problems.append("a socket opened after recovery got no live snapshot")
    if harness.unsettled(outcomes):
        problems.append(f"503s re-sent by the same voter neither counted nor refused as duplicates: {dict(outcomes)}")
    late_503 = [a for a in unavailable if a.started >= back_at]

    votes = harness.accepted(attempts, "vote") + [a for a in settled if a.kind == "vote"]
    likes = harness.accepted(attempts, "like") + [a for a in settled if a.kind == "like"]
    harness.django_setup()
    count_problems, totals = harness.check_counts(polls, votes, likes)
    problems += count_problems

    say(f"requests: {harness.describe(attempts)}")
    say(f"while PostgreSQL was down: {', '.join(f'{what} -> {answer[0]}' for what, answer in gap_answers.items())}")
    say(
        f"PostgreSQL down {back_at - stopped_at:.1f} s; first 201 {recovered_at - back_at:.2f} s after it was back; "
        f"{len(late_503)} x 503 after it was back; {len(steady)} requests after recovery, {len(failed_steady)} failed"
    )
    say(f"sockets opened while PostgreSQL was down: {sockets_during}")
    say(
        f"subscriber kept through the gap: {watcher.count(0, stopped_at)} snapshots before, {kept_after} after "
        f"recovery{f', closed with {watcher.closed_with}' if watcher.closed_with else ''}; "
        f"opened after recovery: {newer} live snapshots"
    )
    if outcomes:
        say(f"503s retried by the same voter: {dict(outcomes)}")
    say(f"took {time.monotonic() - started:.1f} s")
    committed = outcomes["409 already_voted"] + outcomes["409 already_liked"]
    socket_answers = " / ".join(sorted(set(sockets_during.values()))).replace("closed ", "")
    line = (
        f"faults: postgres restarted mid-run: {len(harness.accepted(attempts, 'vote'))} votes and "
        f"{len(harness.accepted(attempts, 'like'))} likes accepted, {len(unavailable)} x 503 service_unavailable "
        f"in the {back_at - stopped_at:.0f} s gap (re-sent: {committed} already counted, "
        f"{len(unavailable) - committed} counted then), sockets told {socket_answers}, "
        f"recovered in {recovered_at - back_at:.1f} s, {totals['lost']} lost, {totals['double']} counted twice, "
        f"{errors + crashes} server errors"
    )
    return harness.finish(line, problems)


if __name__ == "__main__":
    harness.run(main, "postgres restarted mid-run")
