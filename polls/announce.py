"""What polls tell the rest of QuickPoll when something happens to a poll.

Authors hear of it as notifications (accounts.notifications, a layer below). Live pages hear of
it through the listeners registered here: realtime registers its broadcasts from
RealtimeConfig.ready(), because polls sits below realtime and never imports it. Every
announcement waits for the transaction to commit, so nothing rolled back is ever told.

A second kind of listener is told inside the change's transaction (webhooks writes its outbox there,
so an event is stored exactly when its change is). It runs on the vote path: it must cost nothing
when nobody listens for the poll (webhooks asks `User.has_webhooks` of the author, already loaded).
"""

from typing import Protocol

from django.db import transaction

from accounts.models import Notification, User
from accounts.notifications import notify
from polls import mails
from polls.models import Deck, Like, Poll


class Listener(Protocol):
    """What a listener (realtime.events) provides; each is called once the change is committed."""

    def publish_poll_created(self, poll: Poll) -> None: ...
    def publish_poll_event(self, poll: Poll, kind: str) -> None: ...
    def publish_poll_deleted(self, poll_id) -> None: ...
    def publish_results_changed(self, poll: Poll) -> None: ...
    def publish_ballots(self, changed: dict[Poll, list[str]], confirmations: list[tuple]) -> None: ...
    def publish_to_user(self, user_id, message: dict) -> None: ...
    def publish_notification(self, notification: Notification) -> None: ...
    def publish_presentation(self, poll: Poll) -> None: ...
    def publish_deck_moved(self, deck: Deck) -> None: ...


class TransactionListener(Protocol):
    """What an in-transaction listener (webhooks.outbox) provides; each is called before the commit."""

    def poll_created(self, poll: Poll) -> None: ...
    def poll_closed(self, poll: Poll) -> None: ...
    def ballots_cast(self, ballots_by_poll: dict[Poll, int]) -> None: ...
    def answer_submitted(self, poll: Poll, kind: str, text: str) -> None: ...
    def reported(self, poll: Poll, reason: str) -> None: ...


_listeners: list[Listener] = []
_transaction_listeners: list[TransactionListener] = []


def listen(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def listen_in_transaction(listener: TransactionListener) -> None:
    if listener not in _transaction_listeners:
        _transaction_listeners.append(listener)


def _in_transaction(method: str, *args) -> None:
    for listener in _transaction_listeners:
        getattr(listener, method)(*args)


def _after_commit(method: str, *args) -> None:
    def tell():
        for listener in _listeners:
            getattr(listener, method)(*args)

    transaction.on_commit(tell)


def _notify_author(poll: Poll, kind: str, actor: User | None = None, reason: str = "", events: int = 1) -> None:
    notification = notify(recipient=poll.author, kind=kind, poll=poll, actor=actor, reason=reason, events=events)
    if notification is not None:
        _after_commit("publish_notification", notification)


def poll_created(poll: Poll) -> None:
    _in_transaction("poll_created", poll)
    _after_commit("publish_poll_created", poll)


def poll_updated(poll: Poll) -> None:
    """Edited or reopened: subscribers look again at what they may see."""
    _after_commit("publish_poll_event", poll, "poll.updated")
    results_changed([poll.pk])


def poll_closed(poll: Poll, actor: User | None) -> None:
    """Closed by its author, a moderator, or the clock: the author hears of it, subscribers get final results."""
    _notify_author(poll, Notification.Kind.POLL_CLOSED, actor)
    _in_transaction("poll_closed", poll)
    mails.mail_final_results(poll)
    _after_commit("publish_poll_event", poll, "poll.closed")
    results_changed([poll.pk])


def poll_held(poll: Poll, moderator: User) -> None:
    """Put on hold: the author hears why, subscribers see it closed."""
    _notify_author(poll, Notification.Kind.POLL_HELD, moderator, poll.hold_reason)
    _in_transaction("poll_closed", poll)
    _after_commit("publish_poll_event", poll, "poll.closed")
    results_changed([poll.pk])


def hold_lifted(poll: Poll, moderator: User) -> None:
    _notify_author(poll, Notification.Kind.HOLD_LIFTED, moderator)
    _after_commit("publish_poll_event", poll, "poll.updated")


def poll_deleted(poll_id) -> None:
    _after_commit("publish_poll_deleted", poll_id)


def presentation_changed(poll: Poll) -> None:
    """Presenting started or ended, or the presenter showed or hid the results: every audience page looks
    again at what it may see, at once."""
    _after_commit("publish_presentation", poll)
    results_changed([poll.pk])


def deck_moved(deck: Deck) -> None:
    """Another of the deck's polls is on screen: its audience's pages follow."""
    _after_commit("publish_deck_moved", deck)


def results_changed(poll_ids) -> None:
    """Counts or options of these polls changed: their subscribers get fresh results."""
    for poll in Poll.objects.filter(pk__in=set(poll_ids)).only("id", "is_public"):
        _after_commit("publish_results_changed", poll)


def ballots_cast(voters_by_poll: dict, confirmations: list[tuple]) -> None:
    """Ballots were written: one notice per poll to its author (a voter's own poll excepted), fresh
    results with who voted, and to each account voter's tabs the confirmation of their vote.

    `voters_by_poll` maps each Poll to the Voters whose ballots it took; `confirmations` holds
    (user id, message) pairs.
    """
    _in_transaction("ballots_cast", {poll: len(voters) for poll, voters in voters_by_poll.items()})
    for poll, voters in voters_by_poll.items():
        others = [voter for voter in voters if voter.user is None or voter.user.pk != poll.author_id]
        if others:
            # A secret poll's author is not told who voted when: with the counts, that would tell what they chose.
            _notify_author(poll, Notification.Kind.VOTE, None if poll.is_secret else others[0].user, events=len(others))
    # Who voted rides with a snapshot only to show after_vote results; a secret poll has none while open.
    changed = {
        poll: [] if poll.is_secret else [voter.key for voter in voters] for poll, voters in voters_by_poll.items()
    }
    _after_commit("publish_ballots", changed, confirmations)


def ballots_retracted(voters_by_poll_id: dict) -> None:
    """Votes were taken back: fresh results, with whose ballot changed (Voter.key), so that those voters'
    open pages look again at what the poll's rule lets them see (after_vote results hide again)."""
    polls = Poll.objects.filter(pk__in=set(voters_by_poll_id)).only("id", "is_public")
    _after_commit("publish_ballots", {poll: sorted(voters_by_poll_id[poll.pk]) for poll in polls}, [])


def liked(poll: Poll, like: Like) -> None:
    _notify_author(poll, Notification.Kind.LIKE, like.user)
    _after_commit("publish_results_changed", poll)
    if like.user_id is not None:
        confirmation = {"type": "like.added", "poll_id": str(poll.pk), "like_id": str(like.pk)}
        _after_commit("publish_to_user", like.user_id, confirmation)


def option_suggested(poll: Poll, suggested_by: User | None, text: str) -> None:
    """A suggested option waits for the poll's author (its row lock is held, so their unread notices group)."""
    _notify_author(poll, Notification.Kind.WRITE_IN, suggested_by, text)


def answer_submitted(poll: Poll, *, kind: str, text: str) -> None:
    """An open-text answer (kind "answer") or a write-in (kind "write_in") arrived on the poll."""
    _in_transaction("answer_submitted", poll, kind, text)


def reported(poll: Poll, reporter: User, reason: str = "") -> None:
    _in_transaction("reported", poll, reason)
    if reporter.pk != poll.author_id:
        # Votes, likes and closing hold the poll's row lock here already; a report takes it, so that two
        # reports cannot both find no unread notice and add two. no_key: votes and likes still insert.
        list(Poll.objects.select_for_update(no_key=True).filter(pk=poll.pk).values_list("pk", flat=True))
        # The reporter stays anonymous to the author.
        _notify_author(poll, Notification.Kind.REPORT)


def reports_handled(poll: Poll, *, status: str, count: int) -> None:
    """Moderators resolved or dismissed `count` reports on a poll: its author may have asked to be mailed."""
    mails.mail_reports_handled(poll, status=status, count=count)
