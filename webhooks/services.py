"""Every change to webhook endpoints: the API, the settings page and the admin call these."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from polls.models import Poll
from polls.permissions import can_manage, is_moderator
from webhooks import errors, outbound
from webhooks.models import MODERATOR_EVENTS, SUBSCRIBABLE, Endpoint, Event, OutboxEvent, new_secret

MAX_ENDPOINTS_PER_ACCOUNT = 10
_CHANGEABLE = {"url", "description", "events", "poll", "milestone_every", "results_interval", "is_active"}


def _check(endpoint: Endpoint, actor: User) -> None:
    problems: dict[str, list[str]] = {}
    try:
        outbound.resolve(endpoint.url)
    except outbound.Unresolvable:
        pass  # DNS may be down or not set up yet; the worker checks again before each request
    except outbound.UnsafeUrl as refusal:
        problems["url"] = [str(refusal)]
    events = endpoint.events
    if not isinstance(events, list) or not events or not all(event in SUBSCRIBABLE for event in events):
        problems["events"] = [_("Choose one or more of: %s.") % ", ".join(SUBSCRIBABLE)]
    elif MODERATOR_EVENTS & set(events) and not is_moderator(actor):
        problems["events"] = [_("Only moderators may subscribe to report.created.")]
    elif MODERATOR_EVENTS & set(events) and endpoint.poll_id is not None:
        problems["events"] = [_("report.created covers every poll: leave the poll out.")]
    if endpoint.poll_id is not None and not can_manage(actor, endpoint.poll):
        problems["poll"] = [_("Choose one of your own polls.")]
    if endpoint.milestone_every < 1:
        problems["milestone_every"] = [_("At least 1.")]
    if problems:
        raise errors.InvalidEndpoint(problems)


def keep_owner_flag(owner: User) -> None:
    """User.has_webhooks says whether any active endpoint exists: the vote path reads only that."""
    has = Endpoint.objects.active().filter(owner=owner).exists()
    User.objects.filter(pk=owner.pk).update(has_webhooks=has)
    owner.has_webhooks = has


def create_endpoint(
    *,
    owner: User,
    url: str,
    events: list[str],
    description: str = "",
    poll: Poll | None = None,
    milestone_every: int = 100,
    results_interval: int = 60,
) -> Endpoint:
    endpoint = Endpoint(
        owner=owner,
        url=url.strip(),
        events=sorted(set(events)) if isinstance(events, list) else events,
        description=description.strip(),
        poll=poll,
        milestone_every=milestone_every,
        results_interval=results_interval,
    )
    _check(endpoint, owner)
    with transaction.atomic():
        # The owner's row lock counts their endpoints one request at a time.
        list(User.objects.select_for_update().filter(pk=owner.pk).values_list("pk", flat=True))
        if Endpoint.objects.filter(owner=owner).count() >= MAX_ENDPOINTS_PER_ACCOUNT:
            raise errors.EndpointLimitReached()
        endpoint.save()
        keep_owner_flag(owner)
    return endpoint


def update_endpoint(*, endpoint: Endpoint, actor: User, **changes) -> Endpoint:
    require_owner(endpoint, actor)
    unknown = set(changes) - _CHANGEABLE
    if unknown:
        raise ValueError(f"not changeable: {sorted(unknown)}")
    if isinstance(changes.get("events"), list):
        changes["events"] = sorted(set(changes["events"]))
    if "url" in changes:
        changes["url"] = changes["url"].strip()
    for name, value in changes.items():
        setattr(endpoint, name, value)
    _check(endpoint, actor)
    with transaction.atomic():
        if changes.get("is_active") is True or "url" in changes:
            # A fresh start: switched on again or pointed elsewhere, it is not failing (yet).
            endpoint.failing_since, endpoint.consecutive_failures = None, 0
        endpoint.save()
        keep_owner_flag(endpoint.owner)
    return endpoint


def delete_endpoint(*, endpoint: Endpoint, actor: User) -> None:
    require_owner(endpoint, actor)
    with transaction.atomic():
        owner = endpoint.owner
        endpoint.delete()
        keep_owner_flag(owner)


def rotate_secret(*, endpoint: Endpoint, actor: User) -> Endpoint:
    """A new signing secret, at once: messages already waiting are signed with it when they go."""
    require_owner(endpoint, actor)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    return endpoint


def require_owner(endpoint: Endpoint, actor: User) -> None:
    if actor is None or not actor.is_authenticated or endpoint.owner_id != actor.pk:
        raise errors.NotYourEndpoint()


def send_test(*, endpoint: Endpoint, actor: User) -> OutboxEvent:
    """A webhook.test message, queued like any other (the worker sends it within seconds)."""
    require_owner(endpoint, actor)
    return OutboxEvent.objects.create(
        endpoint=endpoint, event=Event.TEST, data={"message": "A test message from QuickPoll."}
    )


def requeue(outbox_events) -> int:
    """Messages sent or given up go again now, with a fresh round of attempts (same id and body, so receivers
    that have one already can drop it). Returns how many were queued."""
    return outbox_events.exclude(status=OutboxEvent.Status.PENDING).update(
        status=OutboxEvent.Status.PENDING, next_attempt_at=timezone.now(), attempts=0
    )


def pause_endpoints(endpoints) -> int:
    """Moderators stop endpoints (the admin); their owners switch them on again once fixed."""
    owners = {endpoint.owner for endpoint in endpoints.select_related("owner")}
    with transaction.atomic():
        paused = endpoints.update(is_active=False)
        for owner in owners:
            keep_owner_flag(owner)
    return paused


def redeliver(*, outbox_event: OutboxEvent, actor: User) -> OutboxEvent:
    """Send a message again, now."""
    require_owner(outbox_event.endpoint, actor)
    if not requeue(OutboxEvent.objects.filter(pk=outbox_event.pk)):
        raise errors.NotRedeliverable()
    outbox_event.refresh_from_db()
    return outbox_event
