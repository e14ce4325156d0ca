"""GET /metrics: who may scrape it, what it says, and how several server processes add up."""

import ipaddress
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from quickpoll import metrics
from quickpoll.env import env_networks

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-scraper-token"
ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana-dashboard.json"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(*, address: str = "127.0.0.1", token: str | None = None, method: str = "get"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return getattr(Client(REMOTE_ADDR=address), method)("/metrics", **headers)


def is_metrics_page(response) -> bool:
    return response.status_code == 200 and b"# TYPE quickpoll_votes_accepted_total counter" in response.content


def is_not_found(response) -> bool:
    """The site's own 404, which says nothing of metrics."""
    return response.status_code == 404 and b"quickpoll_" not in response.content


# --- Who may scrape -----------------------------------------------------------------------------------


def test_loopback_scrapes_without_a_token():
    response = scrape(address="127.0.0.1")

    assert is_metrics_page(response)
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-cache" in response["Cache-Control"]


def test_ipv6_loopback_and_an_ipv4_mapped_loopback_scrape_too():
    assert is_metrics_page(scrape(address="::1"))
    assert is_metrics_page(scrape(address="::ffff:127.0.0.1"))


def test_another_address_without_a_token_gets_a_plain_404():
    assert is_not_found(scrape(address="203.0.113.9"))


def test_another_address_with_the_token_scrapes(token):
    assert is_metrics_page(scrape(address="203.0.113.9", token=token))


def test_a_wrong_token_gets_a_404_even_from_loopback(token):
    assert is_not_found(scrape(address="203.0.113.9", token="s3cret-scraper-tokex"))
    assert is_not_found(scrape(address="127.0.0.1", token="guess"))


def test_a_token_is_refused_while_none_is_configured(settings):
    settings.METRICS_TOKEN = ""

    assert is_not_found(scrape(address="203.0.113.9", token=""))
    assert is_not_found(scrape(address="203.0.113.9", token="anything"))


def test_only_a_bearer_token_counts(token):
    response = Client(REMOTE_ADDR="203.0.113.9").get("/metrics", HTTP_AUTHORIZATION=f"Basic {token}")

    assert is_not_found(response)


def test_a_network_in_the_allowed_list_scrapes_without_a_token(settings):
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]

    assert is_metrics_page(scrape(address="10.1.2.3"))
    assert is_not_found(scrape(address="127.0.0.1"))  # the list replaces loopback, it does not add to it
    assert is_not_found(scrape(address="11.0.0.1"))


def test_the_address_is_the_one_the_proxy_rule_resolved(settings):
    """A forged X-Forwarded-For is not the client address: REMOTE_ADDR is, as the server resolved it."""
    response = Client(REMOTE_ADDR="203.0.113.9").get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1")

    assert is_not_found(response)


def test_a_stranger_posting_gets_the_404_and_a_scraper_posting_a_405(token):
    assert is_not_found(scrape(address="203.0.113.9", method="post"))
    assert scrape(address="127.0.0.1", method="post").status_code == 405


def test_a_scraper_naming_the_server_by_its_address_over_plain_http_is_served_in_production(settings, token):
    """Prometheus on a private network: Host is the server's address, not one of ALLOWED_HOSTS, and no HTTPS."""
    settings.ALLOWED_HOSTS = ["polls.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    scraper = Client(REMOTE_ADDR="172.18.0.9", HTTP_HOST="172.18.0.5:8000")

    assert is_metrics_page(scraper.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}"))
    # Anyone else meets the site as it is: the unknown host refused, as on any path.
    assert scraper.get("/metrics").status_code == 400
    assert Client(REMOTE_ADDR="203.0.113.9", HTTP_HOST="polls.example.com").get("/metrics", secure=True).status_code == 404


def test_allowed_networks_are_read_as_ranges_and_a_bad_one_names_the_variable(monkeypatch):
    monkeypatch.setenv("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8, 192.168.1.7,fd00::/8")
    assert env_networks("METRICS_ALLOWED_NETWORKS", []) == [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.7/32"),
        ipaddress.ip_network("fd00::/8"),
    ]

    monkeypatch.setenv("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8,intranet")
    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_NETWORKS"):
        env_networks("METRICS_ALLOWED_NETWORKS", [])


def test_the_default_lets_loopback_alone_in(settings):
    assert [str(network) for network in settings.METRICS_ALLOWED_NETWORKS] == ["127.0.0.0/8", "::1/128"]


# --- Several server processes ------------------------------------------------------------------------

# A server process: counts what it is told, then waits (with a socket "open") until stdin closes or it is killed.
_PROCESS = textwrap.dedent(
    """
    import sys
    from quickpoll import metrics
    metrics.votes_accepted.labels(method="single", voter="anonymous").inc(int(sys.argv[1]))
    metrics.open_sockets.inc(int(sys.argv[2]))
    print("ready", flush=True)
    sys.stdin.read()
    """
)


def _server_process(directory: Path, votes: int, sockets: int) -> subprocess.Popen:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "DJANGO_SETTINGS_MODULE": "quickpoll.settings"}
    process = subprocess.Popen(
        [sys.executable, "-c", "import django; django.setup()\n" + _PROCESS, str(votes), str(sockets)],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout.readline().strip() == "ready"
    return process


def _scrape_in_a_process(directory: Path) -> str:
    """What /metrics answers in another process of the same directory (the one Prometheus happened to reach)."""
    code = textwrap.dedent(
        """
        import django; django.setup()
        from django.test import Client
        print(Client(REMOTE_ADDR="127.0.0.1").get("/metrics").content.decode())
        """
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "DJANGO_SETTINGS_MODULE": "quickpoll.settings"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout


def _samples(text: str, name: str) -> list[tuple[str, float]]:
    return [
        (line.split(" ")[0], float(line.split(" ")[1]))
        for line in text.splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    ]


def test_processes_sharing_a_directory_add_up_and_a_dead_process_closes_its_sockets(tmp_path):
    first = _server_process(tmp_path, votes=3, sockets=5)
    second = _server_process(tmp_path, votes=4, sockets=2)
    try:
        text = _scrape_in_a_process(tmp_path)
        [(_, accepted)] = _samples(text, "quickpoll_votes_accepted_total")
        assert accepted == 7
        # One series per live process; the scraping process holds none.
        open_by_process = {key: value for key, value in _samples(text, "quickpoll_websockets_open") if value}
        assert sorted(open_by_process.values()) == [2, 5]
        assert f'pid="{first.pid}"' in next(key for key, value in open_by_process.items() if value == 5)

        second.kill()
        second.wait()
        text = _scrape_in_a_process(tmp_path)
        # Its votes happened and stay counted; the sockets it held are gone with it.
        assert _samples(text, "quickpoll_votes_accepted_total")[0][1] == 7
        assert [value for _, value in _samples(text, "quickpoll_websockets_open") if value] == [5]
    finally:
        for process in (first, second):
            process.kill()
            process.wait()


# --- The sample dashboard ------------------------------------------------------------------------------


def _exported_names() -> set[str]:
    """Every series name /metrics can show: counters' _total, histograms' _bucket, _sum and _count, gauges."""
    text = scrape().content.decode()
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(kind, [""])
            names |= {name.removesuffix("_total") + suffix if kind == "counter" else name + suffix for suffix in suffixes}
    return names


def test_the_dashboard_is_grafana_json_on_a_prometheus_datasource_variable():
    dashboard = json.loads(DASHBOARD.read_text())

    [datasource] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert datasource["query"] == "prometheus"
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    assert len(panels) >= 7
    for panel in panels:
        assert panel["datasource"]["uid"] == "${" + datasource["name"] + "}", panel["title"]
        assert panel["targets"], panel["title"]


def test_every_dashboard_query_names_only_metrics_quickpoll_exports():
    import re

    exported = _exported_names()
    dashboard = json.loads(DASHBOARD.read_text())
    queried = set()
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            queried |= set(re.findall(r"\b(quickpoll_[a-z_]+|django_[a-z_]+)\b", target["expr"]))
    assert queried, "the dashboard queries nothing"
    assert queried <= exported, queried - exported
    # Each fact the dashboard is for has a panel.
    for name in ("votes_accepted", "votes_refused", "group_commit_batch_size", "websockets_open", "broadcast_lag",
                 "poll_cache_lookups", "rate_limit_refusals"):  # fmt: skip
        assert any(name in query for query in queried), name


def test_label_values_come_from_fixed_sets():
    """No label may carry an id: each one's values are a closed list."""
    from polls.models import Poll
    from quickpoll.errors import DomainError

    def codes(cls):
        return {cls.code} | {code for sub in cls.__subclasses__() for code in codes(sub)}

    allowed = {
        "method": set(Poll.Method.values),
        "voter": {"account", "anonymous"},
        "code": codes(DomainError),
        "kind": {"body", "results"},
        "result": {"hit", "miss", "error"},
        "rule": {"api", "api-key", "auth-ip", "auth-account", "two-factor", "mail-address", "voter", "invite-ip", "join-miss", "invite-create", "export",
                 "websocket-address", "websocket-server"},  # fmt: skip
    }
    for metric in (metrics.votes_accepted, metrics.votes_refused, metrics.poll_cache_lookups, metrics.rate_limit_refusals):
        for collected in metric.collect():
            for sample in collected.samples:
                for label, value in sample.labels.items():
                    assert value in allowed[label], (sample.name, label, value)


# --- What the benchmark prints ----------------------------------------------------------------------


def test_the_benchmark_reads_what_moved_between_two_scrapes():
    from bench.metrics import moved, parse, report

    before = parse(scrape().content.decode())
    metrics.votes_accepted.labels(method="single", voter="account").inc(3)
    metrics.votes_refused.labels(code="already_voted").inc()
    for size in (2, 4):
        metrics.group_commit_batch_size.observe(size)
    for lag in [0.15] * 98 + [4.0] * 2:
        metrics.broadcast_lag.observe(lag)
    metrics.poll_cache_lookups.labels(kind="body", result="hit").inc(3)
    metrics.poll_cache_lookups.labels(kind="body", result="miss").inc()

    figures = moved(before, parse(scrape().content.decode()), peak_sockets=12)

    assert figures["votes_accepted"] == 3 and figures["votes_refused_by_code"] == {"already_voted": 1}
    assert (figures["group_commit_batches"], figures["group_commit_mean_batch"]) == (2, 3)
    # Interpolated inside the bucket as histogram_quantile does: p50 within (0.1, 0.2], p99 within (3, 5].
    assert 100 < figures["broadcast_lag_p50_ms"] <= 200 and 3000 < figures["broadcast_lag_p99_ms"] <= 5000
    assert figures["poll_cache_hit_ratio"] == 0.75
    assert "counters moving       yes" in report("a phase", figures)


def test_a_watched_phase_keeps_and_prints_what_moved_and_fails_the_run_when_nothing_did(monkeypatch, capsys):
    from types import SimpleNamespace

    from bench import metrics as bench_metrics

    monkeypatch.setattr(bench_metrics, "scrape", lambda host, port: bench_metrics.parse(scrape().content.decode()))

    class Bench:
        def __init__(self):
            self.results, self.failures = {}, []

        @bench_metrics.watched("hot poll")
        def hot_poll(self, server, votes: int):
            metrics.votes_accepted.labels(method="single", voter="anonymous").inc(votes)

    bench, server = Bench(), SimpleNamespace(host="127.0.0.1", port=8000, name="main")
    bench.hot_poll(server, 5)
    bench.hot_poll(server, 0)

    assert bench.results["metrics"]["hot poll on main"]["votes_accepted"] == 0
    assert bench.failures == ["/metrics during hot poll on main: no vote counted"]
    printed = capsys.readouterr().out
    assert "votes accepted        +5 (anonymous +5)" in printed and "counters moving       yes" in printed
