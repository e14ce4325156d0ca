"""What compose.yaml and the lock files promise, checked without Docker or the network.

CI also runs `docker-compose config` on compose.yaml (.ci/run); these tests hold what a schema
cannot see: every command names something that exists, the connections go where they must.
"""

import http.server
import os
import re
import shlex
import subprocess
import sys
import threading
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.core.management import get_commands
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
THROUGH_PGBOUNCER = ("http", "sockets", "clock", "webhooks")
ONE_SHOT = ("migrate",)


def _steps(command: list[str]) -> list[list[str]]:
    """A service's command as the programs it runs: `sh -c "a && b"` is two."""
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(step) for step in command[2].split("&&")]
    return [command]


def _environment(name: str) -> dict[str, str]:
    return {key: str(value) for key, value in SERVICES[name].get("environment", {}).items()}


def test_the_file_follows_the_compose_specification_without_a_version_key():
    assert "version" not in COMPOSE
    assert set(SERVICES) == {"postgres", "redis", "pgbouncer", "migrate", "http", "sockets", "clock", "webhooks", "proxy"}
    # QuickPoll's own services run the image built here, each with a command of its own.
    assert {name for name in SERVICES if "build" in SERVICES[name]} == {"migrate", "http", "sockets", "clock", "webhooks"}
    assert all("command" in SERVICES[name] for name in SERVICES if "build" in SERVICES[name])


@pytest.mark.parametrize("name", [name for name in SERVICES if "build" in SERVICES[name]])
def test_every_command_names_a_script_in_bin_or_a_manage_py_command(name):
    for program, *arguments in _steps(SERVICES[name]["command"]):
        if program.startswith("bin/"):
            script = ROOT / program
            assert script.is_file() and script.stat().st_mode & 0o111, f"{name}: {program} is not an executable script"
        else:
            assert (program, arguments[0]) == ("python", "manage.py"), f"{name}: {program} {arguments}"
            assert arguments[1] in get_commands(), f"{name}: manage.py has no command {arguments[1]}"


def test_migrate_runs_the_migrations_then_the_superuser_once_per_release():
    steps = _steps(SERVICES["migrate"]["command"])
    assert [step[2] for step in steps] == ["migrate", "ensure_superuser"]
    assert SERVICES["migrate"]["restart"] == "no"


@pytest.mark.parametrize("name", THROUGH_PGBOUNCER)
def test_the_servers_and_the_clock_reach_postgres_through_pgbouncer_in_transaction_pooling(name):
    environment = _environment(name)
    assert urlsplit(environment["DATABASE_URL"]).hostname == "pgbouncer"
    assert environment["DATABASE_POOLING"] == "transaction"
    assert SERVICES["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"


def test_migrations_go_straight_to_postgres_in_session_pooling():
    environment = _environment("migrate")
    assert urlsplit(environment["DATABASE_URL"]).hostname == "postgres"
    assert environment["DATABASE_POOLING"] == "session"
    # PgBouncer forwards to the same database, as the same user.
    pooled = urlsplit(SERVICES["pgbouncer"]["environment"]["DATABASE_URL"])
    direct = urlsplit(environment["DATABASE_URL"])
    assert (pooled.hostname, pooled.username, pooled.path) == ("postgres", direct.username, direct.path)


@pytest.mark.parametrize("name", THROUGH_PGBOUNCER)
def test_the_servers_and_the_clock_start_only_after_migrate_succeeded(name):
    assert SERVICES[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


@pytest.mark.parametrize("name", [name for name in SERVICES if name not in ONE_SHOT])
def test_every_long_running_service_has_a_health_check_and_restarts(name):
    assert SERVICES[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    assert SERVICES[name]["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", ["http", "sockets"])
def test_the_servers_health_checks_ask_health(name):
    program = SERVICES[name]["healthcheck"]["test"][1]
    assert program == "bin/healthcheck" and "/health" in (ROOT / program).read_text()
    # Scaled with --scale: no fixed container name or host port to collide.
    assert "container_name" not in SERVICES[name] and "ports" not in SERVICES[name]


def test_the_proxy_sends_sockets_and_pages_to_the_services_by_name():
    proxy = SERVICES["proxy"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in proxy["volumes"]}
    config = (ROOT / mounts["/etc/nginx/nginx.conf"]).read_text()
    assert (ROOT / mounts["/etc/nginx/forwarded.conf"]).is_file()
    assert "include /etc/nginx/forwarded.conf;" in config
    routes = dict(re.findall(r"set \$(\w+) http://(\w+):8000;", config))
    assert routes == {"quickpoll_http": "http", "quickpoll_sockets": "sockets"}
    assert re.search(r"location /ws/ \{\s*proxy_pass \$quickpoll_sockets;", config)
    assert re.search(r"location / \{\s*proxy_pass \$quickpoll_http;", config)
    # Docker's DNS, asked again as replicas come and go.
    assert "resolver 127.0.0.11" in config
    assert proxy["ports"] == ["${QUICKPOLL_PORT:-8000}:8000"]


LOCKS = {name: (ROOT / "requirements" / f"{name}.lock").read_text() for name in ("production", "dev")}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)(?: ;[^\\\n]*)?((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})*)", re.M)


def _pins(lock: str) -> dict[str, set[str]]:
    pins: dict[str, set[str]] = {}
    for name, version, hashes in PIN.findall(lock):
        assert hashes, f"{name}=={version} has no hash"
        pins.setdefault(name.lower().replace("_", "-").replace(".", "-"), set()).add(version)
    return pins


def _requirements(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(line) for line in listed]


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [("production", _requirements()), ("dev", _requirements() + _requirements("dev"))],
)
def test_the_lock_pins_every_dependency_within_pyproject_ranges(lock, requirements):
    pins = _pins(LOCKS[lock])
    for requirement in requirements:
        versions = pins.get(re.sub(r"[._]", "-", requirement.name.lower()), set())
        assert any(requirement.specifier.contains(Version(v), prereleases=True) for v in versions), (
            f"requirements/{lock}.lock has no {requirement} (pinned: {versions or 'nothing'}): run bin/lock"
        )


def test_every_line_of_the_locks_is_a_hashed_pin_or_a_comment():
    for name, lock in LOCKS.items():
        stripped = PIN.sub("", lock)
        leftovers = [line for line in stripped.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        assert not leftovers, f"requirements/{name}.lock: {leftovers[:3]}"


def test_tests_run_against_the_releases_production_runs():
    production, dev = _pins(LOCKS["production"]), _pins(LOCKS["dev"])
    assert {name: dev.get(name) for name in production} == production


def _run_healthcheck(status: int, allowed_hosts: str | None) -> tuple[int, str]:
    """bin/healthcheck against a stand-in server answering /health with `status`; its exit code and the Host it sent."""
    seen = {}

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen["host"] = self.headers["Host"]
            self.send_response(status if self.path == "/health" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    environment = {**os.environ, "PORT": str(server.server_port)}
    environment.pop("ALLOWED_HOSTS", None)
    if allowed_hosts is not None:
        environment["ALLOWED_HOSTS"] = allowed_hosts
    try:
        finished = subprocess.run(
            [sys.executable, ROOT / "bin" / "healthcheck"], env=environment, capture_output=True, timeout=30
        )
    finally:
        server.shutdown()
        server.server_close()
    return finished.returncode, seen.get("host")


@pytest.mark.parametrize(
    ("allowed_hosts", "host"),
    [(None, "localhost"), (".example.com,polls.example.com", "example.com"), ('["*"]', "localhost")],
)
def test_the_health_check_is_healthy_on_200_naming_an_allowed_host(allowed_hosts, host):
    assert _run_healthcheck(200, allowed_hosts) == (0, host)


def test_the_health_check_is_unhealthy_when_the_database_is_down():
    assert _run_healthcheck(503, None) == (1, "localhost")
