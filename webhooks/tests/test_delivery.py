"""Delivery: Standard Webhooks signatures, retries with growing waits, the failing state, redelivery."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounts.models import Notification
from polls import services as poll_services
from polls.tests.factories import pick, visitor
from webhooks import delivery, services
from webhooks.management.commands import deliver_webhooks
from webhooks.models import Delivery, Endpoint, OutboxEvent

pytestmark = pytest.mark.django_db


def make_due():
    OutboxEvent.objects.filter(status=OutboxEvent.Status.PENDING).update(next_attempt_at=timezone.now())


def test_a_message_verifies_with_the_standardwebhooks_verifier(receiver, poll, make_endpoint):
    endpoint = make_endpoint(url=receiver.url, events=["results.changed"])
    poll_services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Red"))

    call_command("deliver_webhooks", "--once")

    headers, body = receiver.received[0]
    payload = Webhook(endpoint.secret).verify(body, headers)
    assert payload["type"] == "results.changed"
    assert headers["webhook-id"] == OutboxEvent.objects.get().message_id
    poll_data = payload["data"]["poll"]
    assert (poll_data["id"], poll_data["is_open"]) == (str(poll.pk), True)
    assert {row["text"]: row["votes"] for row in poll_data["results"]["options"]}["Red"] == 1
    # Signed with another secret, or changed on the way, it is refused.
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(body.replace(b"true", b"false"), headers)


def test_a_failing_receiver_is_retried_with_growing_waits_until_it_succeeds(receiver, settings, owner, make_endpoint):
    settings.WEBHOOKS_RETRY_SECONDS = 30
    receiver.statuses = [500, 503, 200]
    endpoint = make_endpoint(url=receiver.url, events=["poll.created"])
    event = services.send_test(endpoint=endpoint, actor=owner)

    delivery.deliver_due()
    first_wait = OutboxEvent.objects.get().next_attempt_at - timezone.now()
    make_due()
    delivery.deliver_due()
    second_wait = OutboxEvent.objects.get().next_attempt_at - timezone.now()
    assert delivery.deliver_due() == 0  # not due yet
    make_due()
    delivery.deliver_due()

    event.refresh_from_db()
    assert (event.status, event.attempts) == ("delivered", 3)
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)
    assert timedelta(seconds=55) < second_wait <= timedelta(seconds=60)
    log = Delivery.objects.order_by("attempt")
    assert [(one.attempt, one.status, one.response_code) for one in log] == [
        (1, "failed", 500), (2, "failed", 503), (3, "succeeded", 200)
    ]
    # The same message each time: one id, one body (receivers drop what they already have).
    assert len({headers["webhook-id"] for headers, _ in receiver.received}) == 1
    assert len({body for _, body in receiver.received}) == 1


def test_after_the_last_attempt_the_message_is_given_up(receiver, settings, owner, make_endpoint):
    settings.WEBHOOKS_MAX_ATTEMPTS = 2
    receiver.statuses = [500]
    endpoint = make_endpoint(url=receiver.url)
    event = services.send_test(endpoint=endpoint, actor=owner)

    for _ in range(3):
        make_due()
        delivery.deliver_due()

    event.refresh_from_db()
    assert (event.status, event.attempts, len(receiver.received)) == ("failed", 2, 2)


def test_repeated_failures_mark_the_endpoint_failing_and_tell_its_owner_once(receiver, settings, owner, make_endpoint):
    settings.WEBHOOKS_FAILING_AFTER = 3
    receiver.statuses = [500]
    endpoint = make_endpoint(url=receiver.url)
    for _ in range(2):
        services.send_test(endpoint=endpoint, actor=owner)

    for _ in range(3):
        make_due()
        delivery.deliver_due()

    endpoint.refresh_from_db()
    assert endpoint.is_failing
    assert Notification.objects.filter(recipient=owner, kind=Notification.Kind.WEBHOOK_FAILING).count() == 1
    notice = Notification.objects.get(recipient=owner)
    assert endpoint.url in notice.payload["message"]

    receiver.statuses = [200]
    make_due()
    delivery.deliver_due()
    endpoint.refresh_from_db()
    assert not endpoint.is_failing and endpoint.consecutive_failures == 0


def test_redelivery_sends_the_same_message_again(receiver, owner, make_endpoint):
    endpoint = make_endpoint(url=receiver.url)
    services.send_test(endpoint=endpoint, actor=owner)
    delivery.deliver_due()
    attempt = Delivery.objects.get()

    services.redeliver(outbox_event=attempt.outbox_event, actor=owner)
    delivery.deliver_due()

    assert len(receiver.received) == 2
    assert receiver.received[0][1] == receiver.received[1][1]
    assert receiver.received[0][0]["webhook-id"] == receiver.received[1][0]["webhook-id"]


def test_a_redirect_is_not_followed(receiver, owner, make_endpoint):
    receiver.statuses = [302]
    receiver.extra_headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    endpoint = make_endpoint(url=receiver.url)
    services.send_test(endpoint=endpoint, actor=owner)

    delivery.deliver_due()

    assert len(receiver.received) == 1
    assert Delivery.objects.get().status == "failed"


def test_only_the_first_bytes_of_a_large_answer_are_read(receiver, owner, make_endpoint):
    receiver.statuses = [500]
    receiver.body = b"x" * (2 * 1024 * 1024)
    endpoint = make_endpoint(url=receiver.url)
    services.send_test(endpoint=endpoint, actor=owner)

    delivery.deliver_due()

    assert len(Delivery.objects.get().error) <= 300


def test_a_closed_poll_carries_its_final_results(receiver, owner, poll, make_endpoint):
    endpoint = make_endpoint(url=receiver.url, events=["poll.closed"])
    poll_services.cast_vote(poll=poll, voter=visitor(1), option_ids=pick(poll, "Blue"))
    poll_services.set_poll_active(poll=poll, actor=owner, active=False)

    delivery.deliver_due()

    headers, body = receiver.received[0]
    payload = Webhook(endpoint.secret).verify(body, headers)
    assert payload["type"] == "poll.closed"
    assert payload["data"]["poll"]["is_open"] is False
    assert payload["data"]["poll"]["results"]["total_votes"] == 1


def test_a_paused_endpoint_gets_nothing(receiver, owner, make_endpoint):
    endpoint = make_endpoint(url=receiver.url)
    services.send_test(endpoint=endpoint, actor=owner)
    services.update_endpoint(endpoint=endpoint, actor=owner, is_active=False)

    assert delivery.deliver_due() == 0
    assert Endpoint.objects.get().owner.has_webhooks is False


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED needs PostgreSQL; set DATABASE_URL to run it")
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_claim_the_same_message(owner, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    endpoint = services.create_endpoint(owner=owner, url="http://127.0.0.1:9/hook", events=["poll.closed"])
    for _ in range(20):
        services.send_test(endpoint=endpoint, actor=owner)
    start, claimed = threading.Barrier(2), []

    def worker():
        start.wait()
        claimed.append({event.pk for event in delivery._claim(15)})
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert claimed[0].isdisjoint(claimed[1])
    assert len(claimed[0] | claimed[1]) == 20


def test_the_worker_waits_out_a_database_outage_instead_of_stopping(monkeypatch):
    """bin/production stops everything when one of its processes exits: the worker must outlive a restart."""
    passes = iter([OperationalError("server closed the connection"), 3, KeyboardInterrupt()])

    def next_pass():
        outcome = next(passes)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    monkeypatch.setattr(deliver_webhooks, "deliver_due", next_pass)
    monkeypatch.setattr(deliver_webhooks, "forget_old_deliveries", lambda: None)
    monkeypatch.setattr(deliver_webhooks.time, "sleep", lambda seconds: None)

    with pytest.raises(KeyboardInterrupt):  # the third pass: the loop went on past the outage and a good pass
        call_command("deliver_webhooks")
