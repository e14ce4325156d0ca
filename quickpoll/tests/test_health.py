"""/health, /api/info and the home page."""

import pytest
from django.db import OperationalError

from quickpoll import views

pytestmark = pytest.mark.django_db

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class _Broken:
    """Stands in for a backend whose every call fails, as a dead server's client does."""

    vendor = "sqlite"

    def __init__(self, error: Exception):
        self.error = error

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise self.error

        return fail


@pytest.mark.parametrize("path", ["/health", "/health/"])
def test_health_reports_every_backend_ok(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "channel_layer"}
    assert all(check["status"] == "ok" for check in body["checks"].values())
    assert body["version"]
    assert "no-cache" in response["Cache-Control"]


def test_health_answers_503_when_the_database_is_down(client, monkeypatch):
    monkeypatch.setattr(views, "connection", _Broken(OperationalError("connection refused")))

    response = client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == {"status": "error", "backend": "sqlite", "error": "OperationalError"}


def test_health_is_degraded_but_up_when_the_cache_is_down(client, monkeypatch):
    monkeypatch.setattr(views, "cache", _Broken(ConnectionError("redis is gone")))

    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] == "error"
    assert body["checks"]["cache"]["error"] == "ConnectionError"
    assert body["checks"]["database"]["status"] == "ok"


def test_health_is_degraded_but_up_when_the_channel_layer_is_down(client, monkeypatch):
    async def refuse(group, message):
        raise ConnectionError("redis is gone")

    class Layer:
        group_send = staticmethod(refuse)

    monkeypatch.setattr(views, "get_channel_layer", Layer)

    response = client.get("/health")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["channel_layer"]["status"] == "error"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_health_only_answers_get(client, method):
    assert getattr(client, method)("/health").status_code == 405


@pytest.mark.parametrize("path", ["/api/info", "/api/info/"])
def test_api_info_describes_the_service(client, settings, path):
    response = client.get(path)

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == settings.APP_NAME
    assert body["version"] == settings.APP_VERSION
    assert body["environment"] == settings.ENVIRONMENT
    assert body["features"]["anonymous_voting"] is True
    assert body["features"]["rate_limiting"] == settings.RATE_LIMIT_ENABLED
    assert body["limits"]["max_options_per_poll"] == 20
    assert body["limits"]["anonymous_ballots_per_ip"] == settings.ANONYMOUS_BALLOTS_PER_IP


def test_api_info_follows_settings(client, settings):
    settings.RATE_LIMIT_ENABLED = False
    settings.ANONYMOUS_BALLOTS_PER_IP = 3

    body = client.get("/api/info").json()

    assert body["features"]["rate_limiting"] is False
    assert body["limits"]["anonymous_ballots_per_ip"] == 3


def test_api_info_only_answers_get(client):
    assert client.post("/api/info").status_code == 405


def test_home_answers_json_to_api_clients(client, settings):
    response = client.get("/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == settings.APP_NAME
    assert body["links"]["health"] == "http://testserver/health"


def test_home_answers_html_to_browsers(client, settings):
    response = client.get("/", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert settings.APP_NAME in response.content.decode()
    assert "home.html" in [template.name for template in response.templates]
