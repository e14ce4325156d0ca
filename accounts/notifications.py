"""Telling people what happened to their polls.

A notification is a row; the live copy to the recipient's open tabs is sent by whoever
announced the event (polls.announce), once the row is committed. Reading them is announced
from here (the header badge of every open tab follows) to whoever listens (realtime).
"""

from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.models import Notification, User

_MESSAGES = {
    Notification.Kind.VOTE: _("{actor} voted on “{title}”."),
    Notification.Kind.LIKE: _("{actor} liked “{title}”."),
    Notification.Kind.REPORT: _("“{title}” was reported to the moderators."),
    Notification.Kind.POLL_CLOSED: _("Your poll “{title}” has closed."),
    Notification.Kind.POLL_HELD: _("Moderators put your poll “{title}” on hold: {reason}"),
    Notification.Kind.HOLD_LIFTED: _("Moderators lifted the hold on your poll “{title}”; you may reopen and list it again."),
    Notification.Kind.WRITE_IN: _("{actor} suggested the option “{reason}” for “{title}”."),
}


# Repeats on one poll while its author has not looked: one notice that counts them, not one each.
# A hold and its lifting are not grouped: each carries its own moderator's word and order matters.
_GROUPED = {
    Notification.Kind.VOTE: _("{count} new votes on “{title}”."),
    Notification.Kind.LIKE: _("{count} people liked “{title}”."),
    Notification.Kind.REPORT: _("“{title}” was reported to the moderators {count} times."),
    Notification.Kind.POLL_CLOSED: _("Your poll “{title}” has closed {count} times."),
    Notification.Kind.WRITE_IN: _("{count} options suggested for “{title}”."),
}


def _payload(*, kind: str, poll_id, poll_title: str, actor: User | None, reason: str = "") -> dict:
    actor_name = actor.public_name if actor is not None else str(_("Someone"))
    return {
        "poll_id": str(poll_id),
        "poll_title": poll_title,
        "actor": actor_name,
        "message": str(_MESSAGES[kind]).format(title=poll_title, actor=actor_name, reason=reason),
    }


def notify(
    *, recipient: User, kind: str, poll, actor: User | None = None, reason: str = "", events: int = 1
) -> Notification | None:
    """Tell a poll's author what happened to it (`events` times at once); nobody is told about their own doing.

    Returns the notice to send live: a new one, or a grouped one whose count just grew. Callers hold the
    poll's row lock (polls.announce), so two events cannot both find no unread notice and add two.
    """
    if actor is not None and actor.pk == recipient.pk:
        return None
    # Written once, so in the recipient's language, not that of whoever caused the event.
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        return _notify(recipient=recipient, kind=kind, poll=poll, actor=actor, reason=reason, events=events)


def _notify(*, recipient: User, kind: str, poll, actor: User | None, reason: str, events: int) -> Notification | None:
    if kind in _GROUPED:
        unread = Notification.objects.filter(recipient=recipient, poll=poll, kind=kind, read_at__isnull=True)
        grouped = _group_into_unread(unread, kind=kind, title=poll.title, events=events)
        if grouped is not None:
            return grouped
    payload = _payload(kind=kind, poll_id=poll.pk, poll_title=poll.title, actor=actor, reason=reason)
    if events > 1:
        payload["message"] = str(_GROUPED[kind]).format(count=events, title=poll.title)
    return Notification.objects.create(
        recipient=recipient, kind=kind, poll=poll, actor=actor, payload=payload, count=events
    )


def _group_into_unread(unread, *, kind: str, title: str, events: int) -> Notification | None:
    """Count more events into the recipient's unread notice of this kind on this poll, if there is one."""
    grouped = unread.select_for_update().first()
    if grouped is None:
        return None
    # The database adds (F()); under the notice's row lock its count cannot move meanwhile, so the text
    # written in the same UPDATE says the count it makes. Newest first in the inbox: a grouped notice is
    # as recent as the last event it counts.
    count = grouped.count + events
    payload = {**grouped.payload, "message": str(_GROUPED[kind]).format(count=count, title=title)}
    now = timezone.now()
    Notification.objects.filter(pk=grouped.pk).update(count=F("count") + events, created_at=now, payload=payload)
    grouped.count, grouped.created_at, grouped.payload, grouped.grew = count, now, payload, True
    return grouped


def forget_actor(actor: User) -> None:
    """An account is being deleted: other people's notifications name _("Someone") where they named it."""
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


# Apps above accounts show the unread count live (realtime: the header badge of every open tab).
# Each registers, from its AppConfig.ready(), `send(user_id, message)` to reach a user's tabs.
_unread_count_listeners: list[Callable[[object, dict], None]] = []


def on_unread_count_changed(send: Callable[[object, dict], None]) -> None:
    if send not in _unread_count_listeners:
        _unread_count_listeners.append(send)


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_notifications_read(*, recipient: User, notification_ids=None) -> int:
    """Mark some (or, without ids, all) of a user's unread notifications read; once that commits,
    the user's open tabs hear the new unread count (`notifications.read`)."""
    unread = Notification.objects.filter(recipient=recipient, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    marked = unread.update(read_at=timezone.now())
    if marked:
        transaction.on_commit(lambda: _tell_unread_count(recipient))
    return marked


def _tell_unread_count(recipient: User) -> None:
    # Counted after the commit, so a tab never shows a count older than the write that changed it.
    message = {"type": "notifications.read", "unread": unread_count(recipient)}
    for send in _unread_count_listeners:
        send(recipient.pk, message)
