"""Security headers on every answer: CSP (django-csp), framing, referrer, sniffing."""

import pytest

pytestmark = pytest.mark.django_db

STRICT_PARTS = ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]


@pytest.mark.parametrize("path", ["/", "/polls/", "/accounts/login/", "/api/polls", "/health", "/admin/login/"])
def test_pages_and_api_carry_the_strict_policy(client, path):
    response = client.get(path)

    policy = response["Content-Security-Policy"]
    for part in STRICT_PARTS:
        assert part in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_may_only_style_inline(client, path):
    policy = client.get(path)["Content-Security-Policy"]

    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" in policy.split("style-src", 1)[1].split(";", 1)[0]
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]


def test_every_answer_names_its_request_id(client):
    first, second = client.get("/health"), client.get("/health")

    assert first["X-Request-ID"] and second["X-Request-ID"]
    assert first["X-Request-ID"] != second["X-Request-ID"]
