"""What /metrics said while a phase of the benchmark ran: scraped before and after, and what moved.

The servers get a METRICS_TOKEN of this run's own (set here, before any server starts, so every
bin/production inherits it); the scrapes present it as a bearer token, as Prometheus would from
another host. Open sockets are a gauge, so a sampler scrapes it during the phase for its peak.
"""

import functools
import math
import os
import secrets
import threading
import urllib.request
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families

TOKEN = os.environ.setdefault("METRICS_TOKEN", secrets.token_urlsafe(24))
SAMPLE_SECONDS = 0.5  # how often the sampler reads the open-sockets gauge


def scrape(host: str, port: int) -> dict:
    """Every sample of /metrics: {(name, ((label, value), ...)): number}."""
    request = urllib.request.Request(f"http://{host}:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return parse(response.read().decode())


def parse(text: str) -> dict:
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _sum(samples: dict, name: str, by: str | None = None, **match) -> dict:
    """Samples of `name` whose labels include `match`, added up by the label `by` (or all together under None)."""
    totals: dict = defaultdict(float)
    for (sample_name, labels), number in samples.items():
        labels = dict(labels)
        if sample_name == name and all(labels.get(key) == value for key, value in match.items()):
            totals[labels.get(by) if by else None] += number
    return totals


def _delta(before: dict, after: dict, name: str, by: str | None = None, **match) -> dict:
    start, end = _sum(before, name, by, **match), _sum(after, name, by, **match)
    return {key: end[key] - start.get(key, 0.0) for key in end if end[key] - start.get(key, 0.0)}


def _quantile(buckets: dict, q: float) -> float | None:
    """Prometheus's histogram_quantile over bucket increases {upper bound (str): count}: linear within a bucket."""
    bounds = sorted((float(le), count) for le, count in buckets.items())
    if not bounds or bounds[-1][1] <= 0:
        return None
    rank = q * bounds[-1][1]
    lower, below = 0.0, 0.0
    for upper, cumulative in bounds:
        if cumulative >= rank:
            if math.isinf(upper):
                return lower
            return lower + (upper - lower) * (rank - below) / max(cumulative - below, 1e-9)
        lower, below = upper, cumulative
    return lower


def moved(before: dict, after: dict, peak_sockets: float | None = None) -> dict:
    accepted = _delta(before, after, "quickpoll_votes_accepted_total", "voter")
    batches = _delta(before, after, "quickpoll_group_commit_batch_size_count").get(None, 0.0)
    ballots = _delta(before, after, "quickpoll_group_commit_batch_size_sum").get(None, 0.0)
    lag = _delta(before, after, "quickpoll_broadcast_lag_seconds_bucket", "le")
    cache = _delta(before, after, "quickpoll_poll_cache_lookups_total", "result")
    p50, p99 = _quantile(lag, 0.5), _quantile(lag, 0.99)
    return {
        "votes_accepted": sum(accepted.values()),
        "votes_accepted_by_voter": accepted,
        "votes_refused_by_code": _delta(before, after, "quickpoll_votes_refused_total", "code"),
        "group_commit_batches": batches,
        "group_commit_mean_batch": round(ballots / batches, 2) if batches else None,
        "broadcast_lag_observations": lag.get("+Inf", 0.0),
        "broadcast_lag_p50_ms": None if p50 is None else round(p50 * 1000),
        "broadcast_lag_p99_ms": None if p99 is None else round(p99 * 1000),
        "poll_cache_lookups": sum(cache.values()),
        "poll_cache_hit_ratio": round(cache.get("hit", 0.0) / sum(cache.values()), 3) if cache else None,
        "rate_limit_refusals_by_rule": _delta(before, after, "quickpoll_rate_limit_refusals_total", "rule"),
        "open_sockets_peak": peak_sockets,
    }


def report(phase: str, figures: dict) -> str:
    def counts(by: dict) -> str:
        return ", ".join(f"{key} +{number:.0f}" for key, number in sorted(by.items())) or "none"

    lag = (
        f"p50 {figures['broadcast_lag_p50_ms']} ms, p99 {figures['broadcast_lag_p99_ms']} ms "
        f"({figures['broadcast_lag_observations']:.0f} sends timed, about one in ten)"
        if figures["broadcast_lag_observations"] else "no snapshot sent"
    )  # fmt: skip
    peak = "not sampled" if figures["open_sockets_peak"] is None else f"{figures['open_sockets_peak']:.0f}"
    lines = [
        f"/metrics moved during {phase}:",
        f"  votes accepted        +{figures['votes_accepted']:.0f} ({counts(figures['votes_accepted_by_voter'])})",
        f"  votes refused         {counts(figures['votes_refused_by_code'])}",
        f"  group commit          {figures['group_commit_batches']:.0f} batches, mean {figures['group_commit_mean_batch']} ballots",
        f"  broadcast lag         {lag}",
        f"  poll cache hit ratio  {figures['poll_cache_hit_ratio']} ({figures['poll_cache_lookups']:.0f} lookups)",
        f"  rate-limit refusals   {counts(figures['rate_limit_refusals_by_rule'])}",
        f"  open sockets, peak    {peak}",
        f"  counters moving       {'yes' if figures['votes_accepted'] else 'NO: no vote counted'}",
    ]
    return "\n".join(lines)


class Watch:
    """Scrapes before and after: `with Watch(host, port) as watch:`; with `sockets`, samples the open-sockets
    gauge during (left off where no socket opens: each scrape costs the server a little)."""

    def __init__(self, host: str, port: int, *, sockets: bool = False):
        self.host, self.port, self.sockets = host, port, sockets
        self.peak: float | None = None
        self.figures: dict = {}
        self._done = threading.Event()

    def _sample(self) -> None:
        while not self._done.wait(SAMPLE_SECONDS):
            try:
                open_now = sum(_sum(scrape(self.host, self.port), "quickpoll_websockets_open").values())
            except OSError:
                continue  # a busy server: the next sample will do
            self.peak = max(self.peak or 0.0, open_now)

    def __enter__(self) -> "Watch":
        self.before = scrape(self.host, self.port)
        self._sampler = threading.Thread(target=self._sample, name="metrics-sampler", daemon=True)
        if self.sockets:
            self._sampler.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        if self.sockets:
            self._sampler.join()
        self.figures = moved(self.before, scrape(self.host, self.port), self.peak)


def watched(phase: str, *, sockets: bool = False):
    """For a Bench method taking the server: run it between two scrapes of that server's /metrics, print
    what moved, keep it in the results, and fail the run if no vote was counted."""

    def decorate(method):
        @functools.wraps(method)
        def run(bench, server, *args, **kwargs):
            with Watch(server.host, server.port, sockets=sockets) as watch:
                outcome = method(bench, server, *args, **kwargs)
            name = f"{phase} on {server.name}"
            bench.results.setdefault("metrics", {})[name] = watch.figures
            print(report(name, watch.figures), flush=True)
            if not watch.figures["votes_accepted"]:
                bench.failures.append(f"/metrics during {name}: no vote counted")
            return outcome

        return run

    return decorate
