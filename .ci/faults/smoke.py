"""Smoke test of both ways to run QuickPoll: bin/production (nginx, bin/http, bin/sockets) and bin/single
(one granian ASGI server, as a platform without nginx runs it), the same checks on each:
- /health answers 200;
- a vote over the API is counted (201, then the poll's total_votes and the database say 1);
- a socket subscribed to the poll before the vote receives the results snapshot that counts it.
"""

import time

import harness
from harness import Client, Follower, Server, say

MODES = ("production", "single")


def check(mode: str) -> tuple[list[str], str]:
    """The three checks on one server started with bin/<mode>; the problems and a short verdict."""
    harness.django_setup()
    from django.db import connection

    from polls.models import Poll

    problems: list[str] = []
    server = Server(f"smoke-{mode}", command=mode)
    subscriber = None
    try:
        server.start().wait_sockets()
        client = Client(server.port)
        status, health = client.request("GET", "/health")
        if status != 200:
            problems.append(f"{mode}: /health answered {status}: {health}")
        token, _ = harness.register_author(client, "smoke")
        poll = harness.create_polls(client, token, 1, f"Smoke {mode}")[0]
        subscriber = Follower(f"{server.ws}/ws/poll/{poll['id']}/").start()
        if subscriber.failure:
            problems.append(f"{mode}: the socket did not open: {subscriber.failure}")
        status, body = client.request(
            "POST", "/api/votes", {"poll_id": poll["id"], "option_ids": [poll["options"][0]["id"]]},
            headers={"X-Anon-Id": f"smoke-{mode}-{harness.random_token(12)}"},
        )  # fmt: skip
        if status != 201:
            problems.append(f"{mode}: the vote answered {status}: {body}")
        seen = harness.wait_for(lambda: 1 in subscriber.totals, harness.SOCKET_TIMEOUT)
        if not seen:
            problems.append(f"{mode}: the socket was sent totals {subscriber.totals}, never the vote's 1")
        status, read = client.request("GET", f"/api/polls/{poll['id']}")
        counted = Poll.objects.get(pk=poll["id"]).total_votes
        shown = read.get("total_votes") if isinstance(read, dict) else None
        if status != 200 or shown != 1 or counted != 1:
            problems.append(f"{mode}: after one vote the API says {status} {shown}, the database {counted}")
        connection.close()
        crashes = server.crashes()
        if crashes:
            problems.append(f"{mode}: {crashes} crashes in {server.log}")
        client.close()
    finally:
        if subscriber is not None:
            subscriber.stop()
        server.stop()
    verdict = "ok" if not problems else "FAILED"
    say(f"bin/{mode}: {verdict}")
    return problems, f"bin/{mode} {verdict}"


def main() -> int:
    started = time.monotonic()
    harness.migrate()
    problems: list[str] = []
    verdicts = []
    for mode in MODES:
        mode_problems, verdict = check(mode)
        problems += mode_problems
        verdicts.append(verdict)
    say(f"took {time.monotonic() - started:.1f} s")
    line = f"faults: smoke (health, a vote counted, a socket sees it): {', '.join(verdicts)}"
    return harness.finish(line, problems)


if __name__ == "__main__":
    harness.run(main, "smoke (bin/production and bin/single)")
