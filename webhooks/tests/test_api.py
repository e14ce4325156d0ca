"""The webhooks API: an owner's endpoints, their log, redelivery, and what it refuses."""

import pytest

from accounts.tests.factories import UserFactory
from webhooks import delivery, services
from webhooks.models import Delivery, Endpoint, OutboxEvent

pytestmark = pytest.mark.django_db

BODY = {"url": "https://93.184.215.14/hook", "events": ["poll.closed", "vote.milestone"], "milestone_every": 50}


def test_an_endpoint_is_created_with_its_secret_and_listed(owner_client, owner):
    created = owner_client.post("/api/webhooks", BODY, format="json")

    assert created.status_code == 201
    assert created.data["secret"].startswith("whsec_")
    assert created.data["events"] == ["poll.closed", "vote.milestone"]
    listed = owner_client.get("/api/webhooks").data["results"]
    assert [row["id"] for row in listed] == [created.data["id"]]
    owner.refresh_from_db()
    assert owner.has_webhooks


def test_a_private_url_is_a_400_with_the_field(owner_client):
    response = owner_client.post("/api/webhooks", {**BODY, "url": "http://169.254.169.254/"}, format="json")

    assert response.status_code == 400
    assert response.data["code"] == "invalid_endpoint"
    assert "url" in response.data["fields"]


def test_unknown_events_are_a_400(owner_client):
    response = owner_client.post("/api/webhooks", {**BODY, "events": ["poll.exploded"]}, format="json")

    assert (response.status_code, response.data["code"]) == (400, "invalid")


def test_report_created_is_for_moderators(owner_client, staff_api_client):
    body = {**BODY, "events": ["report.created"]}

    refused = owner_client.post("/api/webhooks", body, format="json")
    accepted = staff_api_client.post("/api/webhooks", body, format="json")

    assert (refused.status_code, refused.data["code"], list(refused.data["fields"])) == (400, "invalid_endpoint", ["events"])
    assert accepted.status_code == 201


def test_a_poll_filter_takes_only_ones_own_polls(owner_client, other_user):
    from polls.tests.factories import PollFactory

    theirs = PollFactory(author=other_user)

    response = owner_client.post("/api/webhooks", {**BODY, "poll": str(theirs.pk)}, format="json")

    assert (response.status_code, list(response.data["fields"])) == (400, ["poll"])


def test_someone_elses_endpoint_is_not_found(owner, other_client):
    endpoint = services.create_endpoint(owner=owner, **BODY)

    assert other_client.get(f"/api/webhooks/{endpoint.pk}").status_code == 404
    assert other_client.delete(f"/api/webhooks/{endpoint.pk}").status_code == 404
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_pausing_and_deleting_clear_the_owners_flag(owner_client, owner):
    endpoint_id = owner_client.post("/api/webhooks", BODY, format="json").data["id"]

    owner_client.patch(f"/api/webhooks/{endpoint_id}", {"is_active": False}, format="json")
    owner.refresh_from_db()
    assert not owner.has_webhooks
    owner_client.patch(f"/api/webhooks/{endpoint_id}", {"is_active": True}, format="json")
    owner.refresh_from_db()
    assert owner.has_webhooks
    assert owner_client.delete(f"/api/webhooks/{endpoint_id}").status_code == 204
    owner.refresh_from_db()
    assert not owner.has_webhooks


def test_an_account_has_at_most_ten_endpoints(owner_client):
    for _ in range(services.MAX_ENDPOINTS_PER_ACCOUNT):
        owner_client.post("/api/webhooks", BODY, format="json")

    response = owner_client.post("/api/webhooks", BODY, format="json")

    assert (response.status_code, response.data["code"]) == (409, "endpoint_limit_reached")


def test_the_log_and_redelivery(receiver, owner, owner_client):
    endpoint = services.create_endpoint(owner=owner, url=receiver.url, events=["poll.closed"])
    receiver.statuses = [500]
    assert owner_client.post(f"/api/webhooks/{endpoint.pk}/test").status_code == 202
    OutboxEvent.objects.update(attempts=7)  # the last attempt is next
    delivery.deliver_due()

    log = owner_client.get(f"/api/webhooks/{endpoint.pk}/deliveries").data["results"]
    assert [(row["event"], row["attempt"], row["status"], row["response_code"], row["message_status"]) for row in log] == [
        ("webhook.test", 8, "failed", 500, "failed")
    ]
    receiver.statuses = [200]
    again = owner_client.post(f"/api/webhooks/deliveries/{log[0]['id']}/redeliver")
    assert (again.status_code, again.data["status"]) == (202, "pending")
    twice = owner_client.post(f"/api/webhooks/deliveries/{log[0]['id']}/redeliver")
    assert (twice.status_code, twice.data["code"]) == (409, "already_pending")
    delivery.deliver_due()
    assert Delivery.objects.filter(status="succeeded").count() == 1


def test_rotating_the_secret(owner, owner_client):
    endpoint = services.create_endpoint(owner=owner, **BODY)

    rotated = owner_client.post(f"/api/webhooks/{endpoint.pk}/rotate-secret").data["secret"]

    assert rotated != endpoint.secret and rotated.startswith("whsec_")


def test_deleting_the_owners_account_takes_the_endpoints(owner):
    services.create_endpoint(owner=owner, **BODY)

    owner.delete()

    assert not Endpoint.objects.exists()


def test_another_accounts_vote_never_reaches_my_endpoint(owner):
    """Endpoints hear their owner's polls only."""
    from polls.tests.factories import PollFactory, pick, visitor
    from polls import services as poll_services

    services.create_endpoint(owner=owner, url="https://93.184.215.14/", events=["results.changed"])
    theirs = PollFactory(author=UserFactory())

    poll_services.cast_vote(poll=theirs, voter=visitor(1), option_ids=pick(theirs, "Red"))

    assert not OutboxEvent.objects.exists()


def test_my_data_download_lists_my_endpoints_without_their_secrets(owner, owner_client):
    endpoint = services.create_endpoint(owner=owner, **BODY)

    data = owner_client.get("/api/users/me/export").json()

    assert [row["url"] for row in data["webhook_endpoints"]] == [BODY["url"]]
    assert endpoint.secret not in str(data)
