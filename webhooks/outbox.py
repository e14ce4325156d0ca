"""The outbox: webhook events written inside the transaction of the change they tell of.

polls.announce calls this module before the commit (listen_in_transaction), so an event is stored
exactly when its vote, poll or report is, and rolled back with it. The worker (webhooks.delivery)
sends them later: nothing here waits on a network. A vote on the poll of an author without
endpoints asks nothing at all (User.has_webhooks rides with the poll's author, already loaded).
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from polls.models import Poll
from webhooks.models import Endpoint, Event, OutboxEvent


def _endpoints_of_author(poll: Poll, events: set[str]) -> list[Endpoint]:
    if not poll.author.has_webhooks:
        return []
    candidates = Endpoint.objects.active().filter(owner_id=poll.author_id).filter(Q(poll__isnull=True) | Q(poll=poll))
    return [endpoint for endpoint in candidates if events & set(endpoint.events)]


def _write(events: list[OutboxEvent]) -> None:
    if events:
        OutboxEvent.objects.bulk_create(events)


def poll_created(poll: Poll) -> None:
    endpoints = _endpoints_of_author(poll, {Event.POLL_CREATED})
    _write([OutboxEvent(endpoint=endpoint, event=Event.POLL_CREATED, poll=poll) for endpoint in endpoints])


def poll_closed(poll: Poll) -> None:
    endpoints = _endpoints_of_author(poll, {Event.POLL_CLOSED})
    _write([OutboxEvent(endpoint=endpoint, event=Event.POLL_CLOSED, poll=poll) for endpoint in endpoints])


def answer_submitted(poll: Poll, kind: str, text: str) -> None:
    endpoints = _endpoints_of_author(poll, {Event.ANSWER_SUBMITTED})
    data = {"kind": kind, "text": text}
    _write([OutboxEvent(endpoint=endpoint, event=Event.ANSWER_SUBMITTED, poll=poll, data=data) for endpoint in endpoints])


def reported(poll: Poll, reason: str) -> None:
    """Moderators' endpoints hear of every report (whoever's poll); authors' endpoints never do."""
    endpoints = [
        endpoint
        for endpoint in Endpoint.objects.active().filter(owner__is_staff=True, poll__isnull=True)
        if Event.REPORT_CREATED in endpoint.events
    ]
    data = {"reason": reason}
    _write([OutboxEvent(endpoint=endpoint, event=Event.REPORT_CREATED, poll=poll, data=data) for endpoint in endpoints])


def ballots_cast(ballots_by_poll: dict[Poll, int]) -> None:
    """Ballots were written (the poll's counters already moved, its row lock held): milestones crossed, and
    results.changed at most once per endpoint's interval."""
    events = []
    for poll, ballots in ballots_by_poll.items():
        endpoints = _endpoints_of_author(poll, {Event.VOTE_MILESTONE, Event.RESULTS_CHANGED})
        if not endpoints:
            continue
        events += _milestones(poll, ballots, [e for e in endpoints if Event.VOTE_MILESTONE in e.events])
        events += _results_changed(poll, [e for e in endpoints if Event.RESULTS_CHANGED in e.events])
    _write(events)


def _milestones(poll: Poll, ballots: int, endpoints: list[Endpoint]) -> list[OutboxEvent]:
    if not endpoints:
        return []
    # Read under the poll's row lock the vote path holds, so two batches never both cross one milestone.
    total = Poll.objects.values_list("total_votes", flat=True).get(pk=poll.pk)
    events = []
    for endpoint in endpoints:
        every = max(endpoint.milestone_every, 1)
        if total // every > (total - ballots) // every:
            data = {"ballots": total // every * every}
            events.append(OutboxEvent(endpoint=endpoint, event=Event.VOTE_MILESTONE, poll=poll, data=data))
    return events


def _results_changed(poll: Poll, endpoints: list[Endpoint]) -> list[OutboxEvent]:
    """One message per endpoint's interval: while one waits, later changes ride with it (its results are
    read when it is sent); otherwise the next goes an interval after the last one was due."""
    if not endpoints:
        return []
    now = timezone.now()
    longest = timedelta(seconds=max(endpoint.results_interval for endpoint in endpoints))
    latest = {}
    for endpoint_id, status, due in (
        OutboxEvent.objects.filter(endpoint__in=endpoints, poll=poll, event=Event.RESULTS_CHANGED)
        # Older ones throttle nothing any more.
        .filter(Q(status=OutboxEvent.Status.PENDING) | Q(next_attempt_at__gt=now - longest))
        .order_by("endpoint_id", "next_attempt_at")
        .values_list("endpoint_id", "status", "next_attempt_at")
    ):
        latest[endpoint_id] = (status, due)
    events = []
    for endpoint in endpoints:
        status, due = latest.get(endpoint.pk, (None, None))
        if status == OutboxEvent.Status.PENDING:
            continue
        when = now if due is None else max(now, due + timedelta(seconds=endpoint.results_interval))
        events.append(OutboxEvent(endpoint=endpoint, event=Event.RESULTS_CHANGED, poll=poll, next_attempt_at=when))
    return events
