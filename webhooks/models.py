"""Webhook endpoints, the events waiting for them (the outbox) and each attempt to deliver one."""

import secrets
import uuid
from base64 import b64encode

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    POLL_CREATED = "poll.created", _("A poll was created")
    POLL_CLOSED = "poll.closed", _("A poll closed")
    VOTE_MILESTONE = "vote.milestone", _("A poll reached a number of ballots")
    RESULTS_CHANGED = "results.changed", _("A poll's results changed")
    ANSWER_SUBMITTED = "answer.submitted", _("An open-text answer or a write-in arrived")
    REPORT_CREATED = "report.created", _("A poll was reported (moderators)")
    # Sent on request ("Send a test"), never subscribed to.
    TEST = "webhook.test", _("A test message")


# What an endpoint may subscribe to; report.created is for moderators only (webhooks.services).
SUBSCRIBABLE = [event for event in Event.values if event != Event.TEST]
MODERATOR_EVENTS = {Event.REPORT_CREATED}


def new_secret() -> str:
    """A signing secret as Standard Webhooks spells it: whsec_ and 24 random bytes in base64."""
    return "whsec_" + b64encode(secrets.token_bytes(24)).decode()


class EndpointQuerySet(models.QuerySet):
    def active(self) -> "EndpointQuerySet":
        return self.filter(is_active=True)


class Endpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=120, blank=True)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=80, default=new_secret, editable=False)
    # Only this poll's events, when set; otherwise every poll of the owner's.
    poll = models.ForeignKey(
        "polls.Poll", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("poll")
    )
    milestone_every = models.PositiveIntegerField(_("milestone every N ballots"), default=100)
    results_interval = models.PositiveIntegerField(_("results at most every N seconds"), default=60)
    is_active = models.BooleanField(_("active"), default=True)
    # Set after WEBHOOKS_FAILING_AFTER failed messages in a row; a delivered message clears it.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.url

    @property
    def is_failing(self) -> bool:
        return self.failing_since is not None


class OutboxEvent(models.Model):
    """One event on its way to one endpoint, written in the transaction of the change it tells of.

    Its id is the message id receivers see (webhook-id): retries and redeliveries keep it, so they can
    drop what they already have.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="outbox")
    event = models.CharField(max_length=40, choices=Event.choices)
    poll = models.ForeignKey("polls.Poll", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # What the change itself told (a milestone's count, a report's reason); the poll and its results are
    # added when the message is first sent, then kept (payload) so every retry sends the same body.
    data = models.JSONField(default=dict, blank=True)
    payload = models.JSONField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["endpoint", "event", "poll", "-next_attempt_at"], name="outbox_latest_idx"),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint}"

    @property
    def message_id(self) -> str:
        return f"msg_{self.pk.hex}"


class Delivery(models.Model):
    """One attempt to deliver an outbox event: what the endpoint answered, how long it took."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    outbox_event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["endpoint", "-created_at"], name="delivery_log_idx")]

    def __str__(self):
        return f"{self.outbox_event} #{self.attempt}: {self.status}"
