"""What QuickPoll tells Prometheus at GET /metrics, and who may ask.

Each metric below is moved at the one place that decides its fact (docs/metrics.md lists them):
cast_vote in polls/services.py (votes accepted and refused), polls/group_commit.py (batch
sizes), realtime/consumers.py (open sockets, broadcast lag), polls/public_bodies.py (the poll
read cache) and quickpoll/ratelimits.py (refusals). Label values come from small fixed sets
(a poll's method, an error's code, a limit's name), never from ids.

Several server processes: with PROMETHEUS_MULTIPROC_DIR set (the launchers in bin/ set it to a
fresh directory), prometheus_client keeps each process's values in a file there, and a scrape of
any process adds up every process sharing the directory. Without it (runserver, tests), one
process's own values.
"""

import hmac
import ipaddress
import os
import re
from pathlib import Path

from django.conf import settings
from django.http import HttpResponseNotAllowed
from django.utils.cache import add_never_cache_headers
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import Counter, Gauge, Histogram, multiprocess

votes_accepted = Counter(
    "quickpoll_votes_accepted_total",
    "Ballots written, by the poll's voting method and the voter's kind (account or anonymous).",
    ["method", "voter"],
)
votes_refused = Counter(
    "quickpoll_votes_refused_total",
    "Ballots refused by the vote service, by the API's error code (already_voted, poll_closed, ...).",
    ["code"],
)
group_commit_batch_size = Histogram(
    "quickpoll_group_commit_batch_size",
    "Ballots written together in one group-commit transaction.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 200),
)
# liveall: one series per live process (label pid); a socket process's cap is its own.
open_sockets = Gauge(
    "quickpoll_websockets_open",
    "WebSockets open in this server process (counted as the connection cap counts them).",
    multiprocess_mode="liveall",
)
broadcast_lag = Histogram(
    "quickpoll_broadcast_lag_seconds",
    "From the commit of the earliest change a results snapshot carries to its send on a socket.",
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0),
)
poll_cache_lookups = Counter(
    "quickpoll_poll_cache_lookups_total",
    "Reads of the public poll cache (kind: body, results or page), by result: hit, miss or error (read from the database).",
    ["kind", "result"],
)
rate_limit_refusals = Counter(
    "quickpoll_rate_limit_refusals_total",
    "Requests refused with 429 rate_limited and sockets closed with 4429, by the limit that was reached"
    " (quickpoll/ratelimits.py lists them).",
    ["rule"],
)

_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w*_(\d+)\.db$")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but alive
    return True


def forget_dead_processes(directory: str) -> None:
    """Drop the live gauges of processes that are gone: a socket process killed with its sockets
    open would otherwise count them until the directory is emptied at the next start."""
    for path in Path(directory).glob("gauge_live*.db"):
        match = _LIVE_GAUGE_FILE.match(path.name)
        if match and not _process_alive(int(match.group(1))):
            multiprocess.mark_process_dead(int(match.group(1)), directory)


def _client_address(request) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    # REMOTE_ADDR, as every rule by address reads it: the server resolves X-Forwarded-For from FORWARDED_ALLOW_IPS.
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        return None
    return address.ipv4_mapped or address if address.version == 6 else address


def _bearer_token(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def may_scrape(request) -> bool:
    """METRICS_TOKEN as a bearer token, or a client inside METRICS_ALLOWED_NETWORKS."""
    token = _bearer_token(request)
    if token and settings.METRICS_TOKEN:
        return hmac.compare_digest(token.encode(), settings.METRICS_TOKEN.encode())
    address = _client_address(request)
    return address is not None and any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


class MetricsMiddleware:
    """GET /metrics for a scraper, answered before the rest of the stack (first in MIDDLEWARE).

    Prometheus names each server by its address, not by one of ALLOWED_HOSTS, and speaks plain HTTP on
    the private network, which production would redirect to HTTPS; nothing here builds a URL from the
    Host header. Anyone else goes on to Django, where /metrics is an unknown path: its 404 says nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info != "/metrics" or not may_scrape(request):
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if directory:
            forget_dead_processes(directory)
        response = ExportToDjangoView(request)
        add_never_cache_headers(response)
        return response
