"""The worker's half of webhooks: sending what the outbox holds, signed, with retries.

Each outbox event goes to its endpoint until the endpoint answers 2xx, with the wait between
attempts doubling from WEBHOOKS_RETRY_SECONDS, for at most WEBHOOKS_MAX_ATTEMPTS attempts. After
WEBHOOKS_FAILING_AFTER failed attempts in a row an endpoint is marked failing and its owner told
once; the next delivered message clears it. Several workers may run: each claims due events with
SKIP LOCKED and leases them for the length of a request.
"""

import json
from datetime import timedelta
from http.client import HTTPException

import structlog
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from standardwebhooks.webhooks import Webhook

from accounts.models import Notification
from polls import selectors
from polls.models import Poll
from polls.permissions import can_see_results
from webhooks import outbound
from webhooks.models import Delivery, Endpoint, OutboxEvent

logger = structlog.get_logger(__name__)

BATCH = 50
LONGEST_WAIT = timedelta(hours=6)


def retry_delay(attempt: int) -> timedelta:
    """The wait after failed attempt number `attempt` (1, 2, …): doubling, at most LONGEST_WAIT."""
    return min(timedelta(seconds=settings.WEBHOOKS_RETRY_SECONDS * 2 ** (attempt - 1)), LONGEST_WAIT)


def poll_data(poll: Poll, owner) -> dict:
    """The poll as the API shows it to the endpoint's owner, with its results where the owner sees them."""
    visible = can_see_results(poll=poll, user=owner, has_voted=False)
    return {
        "id": str(poll.pk),
        "slug": poll.slug,
        "title": poll.title,
        "path": reverse("poll-detail", kwargs={"ref": poll.slug}),
        "method": poll.method,
        "is_open": poll.is_open,
        "closed_at": poll.closed_at,
        "results": selectors.full_results(poll) if visible else None,
        "results_hidden_reason": "" if visible else selectors.results_hidden_reason(poll),
    }


def build_payload(event: OutboxEvent) -> dict:
    data = dict(event.data)
    if event.poll is not None:
        data["poll"] = poll_data(event.poll, event.endpoint.owner)
    elif event.poll_id is None and event.event != "webhook.test":
        data["poll"] = None  # deleted before the message went
    return {"type": event.event, "timestamp": timezone.now(), "data": data}


def signed_headers(endpoint: Endpoint, message_id: str, body: str) -> dict[str, str]:
    """The three headers of the Standard Webhooks spec; receivers check them with any of its libraries."""
    sent_at = timezone.now()
    signature = Webhook(endpoint.secret).sign(msg_id=message_id, timestamp=sent_at, data=body)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(sent_at.timestamp())), "webhook-signature": signature}


def _claim(limit: int) -> list[OutboxEvent]:
    """Due events for this worker alone: locked past the others (SKIP LOCKED), then leased for a request's length."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            OutboxEvent.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=OutboxEvent.Status.PENDING, next_attempt_at__lte=now, endpoint__is_active=True)
            .order_by("next_attempt_at")[:limit]
        )
        lease = now + timedelta(seconds=settings.WEBHOOKS_TIMEOUT_SECONDS * 3)
        OutboxEvent.objects.filter(pk__in=[event.pk for event in due]).update(next_attempt_at=lease)
    return due


def deliver_due(*, limit: int = BATCH) -> int:
    """Send every due message (one pass); returns how many attempts were made."""
    claimed = _claim(limit)
    for event in OutboxEvent.objects.filter(pk__in=[e.pk for e in claimed]).select_related(
        "endpoint", "endpoint__owner", "poll"
    ):
        deliver(event)
    return len(claimed)


def deliver(event: OutboxEvent) -> Delivery:
    """One attempt at one message: sign, POST, log it, and schedule the next attempt or give up."""
    endpoint = event.endpoint
    if event.payload is None:
        # Read once, at the first attempt: every retry and redelivery sends these very bytes.
        event.payload = json.loads(json.dumps(build_payload(event), cls=DjangoJSONEncoder))
        OutboxEvent.objects.filter(pk=event.pk).update(payload=event.payload)
    # Sorted: PostgreSQL's jsonb keeps keys in an order of its own, and every attempt must send the same bytes.
    body = json.dumps(event.payload, separators=(",", ":"), sort_keys=True)
    attempt = event.attempts + 1
    code, duration, error = None, 0, ""
    try:
        answer = outbound.post(endpoint.url, body.encode(), signed_headers(endpoint, event.message_id, body))
    except outbound.UnsafeUrl as refusal:
        error = str(refusal)
    except (OSError, HTTPException) as trouble:
        error = f"{type(trouble).__name__}: {trouble}"[:300]
    else:
        code, duration = answer.status, answer.duration_ms
        if not 200 <= answer.status < 300:
            error = answer.body.decode(errors="replace")[:300]
    succeeded = code is not None and 200 <= code < 300
    now = timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.create(
            outbox_event=event,
            endpoint=endpoint,
            attempt=attempt,
            status=Delivery.Status.SUCCEEDED if succeeded else Delivery.Status.FAILED,
            response_code=code,
            duration_ms=duration,
            error=error,
        )
        if succeeded:
            status, next_attempt = OutboxEvent.Status.DELIVERED, now
        elif attempt >= settings.WEBHOOKS_MAX_ATTEMPTS:
            status, next_attempt = OutboxEvent.Status.FAILED, now
        else:
            status, next_attempt = OutboxEvent.Status.PENDING, now + retry_delay(attempt)
        OutboxEvent.objects.filter(pk=event.pk).update(status=status, attempts=attempt, next_attempt_at=next_attempt)
        _count_on_endpoint(endpoint, succeeded)
    logger.info(
        "webhook_attempt",
        endpoint_id=str(endpoint.pk),
        message_id=event.message_id,
        webhook_event=event.event,
        attempt=attempt,
        status=delivery.status,
        response_code=code,
    )
    return delivery


def _count_on_endpoint(endpoint: Endpoint, succeeded: bool) -> None:
    if succeeded:
        Endpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0, failing_since=None)
        return
    Endpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    # Marked once, by the attempt that finds it not yet failing: the owner is told once per failing spell.
    became_failing = Endpoint.objects.filter(
        pk=endpoint.pk, failing_since__isnull=True, consecutive_failures__gte=settings.WEBHOOKS_FAILING_AFTER
    ).update(failing_since=timezone.now())
    if became_failing:
        Notification.objects.create(
            recipient=endpoint.owner,
            kind=Notification.Kind.WEBHOOK_FAILING,
            payload={
                "endpoint_id": str(endpoint.pk),
                "message": gettext(
                    "Your webhook endpoint %(url)s failed %(count)s times in a row. QuickPoll keeps retrying; "
                    "its delivery log is in your settings."
                )
                % {"url": endpoint.url, "count": settings.WEBHOOKS_FAILING_AFTER},
            },
        )
        logger.warning("webhook_endpoint_failing", endpoint_id=str(endpoint.pk))


def forget_old_deliveries() -> int:
    """Messages sent or given up more than WEBHOOKS_LOG_DAYS ago leave the log, with their attempts."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOKS_LOG_DAYS)
    done = OutboxEvent.objects.exclude(status=OutboxEvent.Status.PENDING).filter(next_attempt_at__lt=cutoff)
    deleted, _ = done.delete()
    return deleted
