"""Telling people what happened to their polls.

A notification is a row; the live copy to the recipient's open tabs is sent by whoever
announced the event (polls.announce), once the row is committed.
"""

from django.db.models import F
from django.utils import timezone

from accounts.models import Notification, User

_MESSAGES = {
    Notification.Kind.VOTE: "New votes on “{title}”.",
    Notification.Kind.LIKE: "{actor} liked “{title}”.",
    Notification.Kind.REPORT: "“{title}” was reported to the moderators.",
    Notification.Kind.POLL_CLOSED: "Your poll “{title}” has closed.",
    Notification.Kind.POLL_HELD: "Moderators put your poll “{title}” on hold: {reason}",
    Notification.Kind.HOLD_LIFTED: "Moderators lifted the hold on your poll “{title}”; you may reopen and list it again.",
}


# A poll's likes while its author has not looked: one notice that counts them, not one each.
_GROUPED = {Notification.Kind.LIKE: "{count} people liked “{title}”."}


def _payload(*, kind: str, poll_id, poll_title: str, actor: User | None, reason: str = "") -> dict:
    actor_name = actor.public_name if actor is not None else "Someone"
    return {
        "poll_id": str(poll_id),
        "poll_title": poll_title,
        "actor": actor_name,
        "message": _MESSAGES[kind].format(title=poll_title, actor=actor_name, reason=reason),
    }


def notify(*, recipient: User, kind: str, poll, actor: User | None = None, reason: str = "") -> Notification | None:
    """Tell a poll's author what happened to it; nobody is told about their own doing.

    Returns the notice to send live: a new one (count 1), or a grouped one whose count just grew.
    """
    if actor is not None and actor.pk == recipient.pk:
        return None
    unread = Notification.objects.filter(recipient=recipient, poll=poll, kind=kind, read_at__isnull=True)
    if kind == Notification.Kind.VOTE:
        # A busy poll would bury its author in one notice per vote: one unread notice says "new votes".
        if unread.exists():
            return None
    if kind in _GROUPED:
        grouped = _group_into_unread(unread, kind=kind, title=poll.title)
        if grouped is not None:
            return grouped
    payload = _payload(kind=kind, poll_id=poll.pk, poll_title=poll.title, actor=actor, reason=reason)
    return Notification.objects.create(recipient=recipient, kind=kind, poll=poll, actor=actor, payload=payload)


def _group_into_unread(unread, *, kind: str, title: str) -> Notification | None:
    """Count one more event into the recipient's unread notice of this kind on this poll, if there is one.

    Callers hold the poll's row lock (likes move its counter first), so two likes cannot both find no
    notice and add two; the notice's own lock keeps its count and text together against a concurrent read.
    """
    grouped = unread.select_for_update().first()
    if grouped is None:
        return None
    # Newest first in the inbox: a grouped notice is as recent as the last event it counts.
    Notification.objects.filter(pk=grouped.pk).update(count=F("count") + 1, created_at=timezone.now())
    grouped.refresh_from_db(fields=["count", "created_at"])
    grouped.payload = {**grouped.payload, "message": _GROUPED[kind].format(count=grouped.count, title=title)}
    grouped.save(update_fields=["payload"])
    return grouped


def forget_actor(actor: User) -> None:
    """An account is being deleted: other people's notifications name "Someone" where they named it."""
    for notification in Notification.objects.filter(actor=actor).select_for_update():
        payload = notification.payload
        anonymous = _payload(
            kind=notification.kind, poll_id=payload.get("poll_id", ""), poll_title=payload.get("poll_title", ""), actor=None
        )
        if notification.count > 1:  # a grouped notice's message ("12 people liked …") names nobody already
            del anonymous["message"]
        notification.payload = payload | anonymous
        notification.actor = None
        notification.save(update_fields=["payload", "actor"])


def mark_notifications_read(*, recipient: User, notification_ids=None) -> int:
    """Mark some (or, without ids, all) of a user's unread notifications read."""
    unread = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
