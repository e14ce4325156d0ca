"""A database out of reach answers 503 with a code and Retry-After, on the API and the pages."""

import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("polls.selectors.public_polls", refuse)


def test_the_api_answers_503_with_a_code(client, database_down):
    response = client.get("/api/polls")

    assert response.status_code == 503
    assert response.json() == {
        "code": "service_unavailable",
        "detail": "The service is briefly unavailable. Please try again in a few seconds.",
    }
    assert response["Retry-After"] == "5"


def test_pages_answer_a_friendly_503(client, database_down):
    response = client.get("/polls/")

    assert response.status_code == 503
    assert "Back in a moment" in response.content.decode()
    assert response["Retry-After"] == "5"


def test_other_database_errors_are_not_disguised_as_outages(client, monkeypatch):
    from django.db import IntegrityError

    def broken(*args, **kwargs):
        raise IntegrityError("a bug, not an outage")

    monkeypatch.setattr("polls.selectors.public_polls", broken)
    client.raise_request_exception = False
    assert client.get("/api/polls").status_code == 500
