from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from polls.models import Poll
from webhooks.models import SUBSCRIBABLE, Delivery, Endpoint, OutboxEvent


class EndpointSerializer(serializers.ModelSerializer):
    poll = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    secret = serializers.CharField(read_only=True, help_text="Signs every message (Standard Webhooks): whsec_…")
    is_failing = serializers.BooleanField(read_only=True)

    class Meta:
        model = Endpoint
        fields = [
            "id", "url", "description", "events", "poll", "milestone_every", "results_interval", "is_active",
            "is_failing", "failing_since", "secret", "created_at",
        ]
        read_only_fields = fields


class EndpointWriteSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    description = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    events = serializers.ListField(child=serializers.ChoiceField(choices=SUBSCRIBABLE), min_length=1, max_length=10)
    poll = serializers.PrimaryKeyRelatedField(
        queryset=Poll.objects.all(), required=False, allow_null=True, default=None,
        help_text=_("Only this poll's events (one of yours); leave it out for all your polls."),
    )
    milestone_every = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, default=100)
    results_interval = serializers.IntegerField(min_value=10, max_value=86_400, required=False, default=60)
    is_active = serializers.BooleanField(required=False, default=True)


class DeliverySerializer(serializers.ModelSerializer):
    message_id = serializers.CharField(source="outbox_event.message_id", read_only=True)
    event = serializers.CharField(source="outbox_event.event", read_only=True)
    message_status = serializers.CharField(
        source="outbox_event.status", read_only=True, help_text="pending (a retry is due), delivered or failed"
    )

    class Meta:
        model = Delivery
        fields = [
            "id", "message_id", "event", "attempt", "status", "response_code", "duration_ms", "error", "created_at",
            "message_status",
        ]
        read_only_fields = fields


class OutboxEventSerializer(serializers.ModelSerializer):
    message_id = serializers.CharField(read_only=True)

    class Meta:
        model = OutboxEvent
        fields = ["id", "message_id", "event", "status", "attempts", "next_attempt_at", "created_at"]
        read_only_fields = fields
