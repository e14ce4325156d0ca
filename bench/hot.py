"""The hot poll: many distinct voters on one fresh poll, and the checks that every 201 counted once."""

import json
import random
import time
from typing import Iterator

from bench import prepare
from bench.httpclient import LoadResult, Request, run, run_load

QUIET_SECONDS = 1.0  # after the last response, before the counts are read


def _vote_body(poll: dict) -> bytes:
    if poll.get("method") == "ranked":
        # A partial ranking: some of the options, in a random order.
        picks = random.sample(poll["option_ids"], k=random.randint(1, len(poll["option_ids"])))
    else:
        picks = [random.choice(poll["option_ids"])]
    return json.dumps({"poll_id": poll["id"], "option_ids": picks}).encode()


def account_votes(poll: dict, tokens: list[str]) -> Iterator[Request]:
    """One vote per account, a random option each; runs dry after the last token."""
    for token in tokens:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        yield "POST", "/api/votes", headers, _vote_body(poll)


def anonymous_votes(poll: dict) -> Iterator[Request]:
    """One vote per new anonymous visitor."""
    while True:
        yield "POST", "/api/votes", prepare.anonymous_voter_headers(), _vote_body(poll)


def repeat(path: str) -> Iterator[Request]:
    request = ("GET", path, None, None)
    while True:
        yield request


def load(server, *, connections: int, seconds: float, requests) -> LoadResult:
    return run(run_load(server.host, server.port, connections=connections, seconds=seconds, requests=requests))


def measured(server, phase, *wanted) -> dict:
    """Run `phase()` (a LoadResult) and summarise it with the server's CPU per wanted answer, in ms."""
    before = server.cpu_seconds()
    result = phase()
    used = server.cpu_seconds() - before
    summary = result.summary(*wanted)
    summary["server_cpu_ms"] = round(1000 * used / max(result.count(*wanted), 1), 2)
    return summary


def vote_phase(server, *, poll: dict, voters: str, connections: int, seconds: float, tokens: list[str]) -> dict:
    """Vote on `poll` for `seconds`, then check poll counter == option counters == Vote rows == 201s (a ranked
    poll: 201s == ballots == rank-1 rows == poll counter == sum of first preferences, each option's equal to its rows)."""
    requests = account_votes(poll, tokens) if voters == "account" else anonymous_votes(poll)
    summary = measured(server, lambda: load(server, connections=connections, seconds=seconds, requests=requests), 201)
    time.sleep(QUIET_SECONDS)
    counts = prepare.poll_counts(poll["id"])
    accepted = summary["wanted"]
    summary.update(
        voters=voters,
        poll_id=poll["id"],
        counts=counts,
        method=poll.get("method", "single"),
        consistent=prepare.counted_exactly(counts, method=poll.get("method", "single"), accepted=accepted),
    )
    return summary
