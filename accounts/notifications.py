"""Telling people what happened to their polls.

A notification is a row; the live copy to the recipient's open tabs is sent by whoever
announced the event (polls.announce), once the row is committed.
"""

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


def notify(*, recipient: User, kind: str, poll, actor: User | None = None, reason: str = "") -> Notification | None:
    """Tell a poll's author what happened to it; nobody is told about their own doing."""
    if actor is not None and actor.pk == recipient.pk:
        return None
    if kind == Notification.Kind.VOTE:
        # A busy poll would bury its author in one notice per vote: one unread notice says "new votes".
        if Notification.objects.filter(recipient=recipient, poll=poll, kind=kind, read_at__isnull=True).exists():
            return None
    actor_name = actor.public_name if actor is not None else "Someone"
    payload = {
        "poll_id": str(poll.pk),
        "poll_title": poll.title,
        "actor": actor_name,
        "message": _MESSAGES[kind].format(title=poll.title, actor=actor_name, reason=reason),
    }
    return Notification.objects.create(recipient=recipient, kind=kind, poll=poll, actor=actor, payload=payload)


def mark_notifications_read(*, recipient: User, notification_ids=None) -> int:
    """Mark some (or, without ids, all) of a user's unread notifications read."""
    unread = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
