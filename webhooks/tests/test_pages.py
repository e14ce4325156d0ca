"""The webhooks pages under settings: the section, adding an endpoint, its log and redelivery."""

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from webhooks import delivery, services
from webhooks.models import Endpoint, OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def test_the_settings_page_lists_endpoints_with_their_state(signed_in, owner):
    services.create_endpoint(owner=owner, url="https://93.184.215.14/ok", events=["poll.closed"])
    failing = services.create_endpoint(owner=owner, url="https://93.184.215.14/broken", events=["poll.closed"])
    Endpoint.objects.filter(pk=failing.pk).update(failing_since="2026-01-01T00:00Z")

    page = signed_in.get(reverse("account-settings")).content.decode()

    assert 'id="webhooks-heading"' in page
    assert "https://93.184.215.14/ok" in page and "Active" in page
    assert "https://93.184.215.14/broken" in page and "Failing" in page


def test_adding_an_endpoint_shows_its_secret(signed_in, owner):
    response = signed_in.post(
        reverse("webhook-new"),
        {"url": "https://93.184.215.14/hook", "events": ["poll.closed"], "milestone_every": 100, "results_interval": 60},
    )

    endpoint = Endpoint.objects.get()
    assert response.status_code == 302 and response.url == reverse("webhook-endpoint", args=[endpoint.pk])
    assert endpoint.secret in signed_in.get(response.url).content.decode()


def test_a_private_url_is_refused_on_the_form(signed_in):
    response = signed_in.post(
        reverse("webhook-new"),
        {"url": "http://192.168.0.10/hook", "events": ["poll.closed"], "milestone_every": 100, "results_interval": 60},
    )

    assert response.status_code == 400
    assert "private" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_moderator_events_are_not_offered_to_others(signed_in):
    page = signed_in.get(reverse("webhook-new")).content.decode()

    assert "poll.closed" in page and "report.created" not in page


def test_the_log_shows_attempts_and_redeliver_queues_again(signed_in, owner, receiver):
    endpoint = services.create_endpoint(owner=owner, url=receiver.url, events=["poll.closed"])
    receiver.statuses = [500]
    services.send_test(endpoint=endpoint, actor=owner)
    OutboxEvent.objects.update(attempts=7)
    delivery.deliver_due()

    page = signed_in.get(reverse("webhook-endpoint", args=[endpoint.pk])).content.decode()
    assert "webhook.test" in page and "500" in page and "Redeliver" in page

    attempt = endpoint.deliveries.get()
    response = signed_in.post(reverse("webhook-redeliver", args=[attempt.pk]))
    assert response.status_code == 302
    assert OutboxEvent.objects.get().status == "pending"


def test_someone_elses_endpoint_page_is_not_found(client, owner):
    endpoint = services.create_endpoint(owner=owner, url="https://93.184.215.14/hook", events=["poll.closed"])
    client.force_login(UserFactory())

    assert client.get(reverse("webhook-endpoint", args=[endpoint.pk])).status_code == 404
    assert client.post(reverse("webhook-delete", args=[endpoint.pk])).status_code == 404
    assert Endpoint.objects.exists()


def test_pause_and_delete(signed_in, owner):
    endpoint = services.create_endpoint(owner=owner, url="https://93.184.215.14/hook", events=["poll.closed"])

    signed_in.post(reverse("webhook-switch", args=[endpoint.pk]), {"active": "0"})
    assert Endpoint.objects.get().is_active is False
    signed_in.post(reverse("webhook-delete", args=[endpoint.pk]))
    assert not Endpoint.objects.exists()


def test_moderators_see_endpoints_without_secrets_and_pause_them(client, moderator, owner):
    endpoint = services.create_endpoint(owner=owner, url="https://93.184.215.14/hook", events=["poll.closed"])
    client.force_login(moderator)

    listing = client.get("/admin/webhooks/endpoint/")
    detail = client.get(f"/admin/webhooks/endpoint/{endpoint.pk}/change/")
    paused = client.post("/admin/webhooks/endpoint/", {"action": "pause", "_selected_action": [str(endpoint.pk)]})

    assert listing.status_code == 200 and "93.184.215.14" in listing.content.decode()
    assert detail.status_code == 200 and endpoint.secret not in detail.content.decode()
    assert paused.status_code == 302
    endpoint.refresh_from_db()
    owner.refresh_from_db()
    assert not endpoint.is_active and not owner.has_webhooks
