"""Webhooks in the admin: endpoints (never their secrets), the delivery log, redelivery."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from webhooks import services
from webhooks.models import Delivery, Endpoint, OutboxEvent


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fk_name = "outbox_event"
    extra = 0
    can_delete = False
    fields = ["attempt", "status", "response_code", "duration_ms", "error", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ChangedElsewhereAdmin(admin.ModelAdmin):
    """Read and act on, never add or edit here: endpoints change through webhooks.services, the log is the worker's."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Endpoint)
class EndpointAdmin(ChangedElsewhereAdmin):
    list_display = ["url", "owner", "is_active", "failing_since", "consecutive_failures", "created_at"]
    list_filter = ["is_active", ("failing_since", admin.EmptyFieldListFilter)]
    search_fields = ["url", "description", "owner__username", "owner__email"]
    raw_id_fields = ["owner", "poll"]
    # The secret stays out: whoever reads the admin must not be able to sign as QuickPoll.
    fields = ["owner", "url", "description", "events", "poll", "milestone_every", "results_interval", "is_active",
              "failing_since", "consecutive_failures", "created_at"]
    actions = ["pause"]

    @admin.action(description=_("Pause the selected endpoints"))
    def pause(self, request, queryset):
        paused = services.pause_endpoints(queryset)
        self.message_user(request, ngettext("%d endpoint paused.", "%d endpoints paused.", paused) % paused, messages.SUCCESS)


@admin.register(OutboxEvent)
class OutboxEventAdmin(ChangedElsewhereAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status", "event"]
    search_fields = ["endpoint__url", "endpoint__owner__username"]
    readonly_fields = ["endpoint", "event", "poll", "data", "payload", "status", "attempts", "next_attempt_at", "created_at"]
    inlines = [DeliveryInline]
    actions = ["redeliver"]

    @admin.action(description=_("Redeliver the selected messages"))
    def redeliver(self, request, queryset):
        queued = services.requeue(queryset)
        self.message_user(request, ngettext("%d message queued again.", "%d messages queued again.", queued) % queued, messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(ChangedElsewhereAdmin):
    list_display = ["created_at", "endpoint", "event", "attempt", "status", "response_code", "duration_ms"]
    list_filter = ["status"]
    search_fields = ["endpoint__url", "endpoint__owner__username"]
    readonly_fields = ["outbox_event", "endpoint", "attempt", "status", "response_code", "duration_ms", "error", "created_at"]
    list_select_related = ["endpoint", "outbox_event"]

    @admin.display(description=_("event"))
    def event(self, delivery):
        return delivery.outbox_event.event
