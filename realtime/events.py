"""What QuickPoll tells WebSocket subscribers, and through which groups.

How a vote reaches a page, and the function at each step:

  request    POST /api/votes -> polls.services.cast_vote()                 HTTP process (granian)
  commit     polls.announce.ballots_cast() -> transaction.on_commit -> events.publish_ballots()
  publish    broadcast_loop.run_from_sync()       onto the broadcast thread's loop
             events.results.request()             Coalescer: at most one per RESULTS_INTERVAL
             events._send_results()               results_message(): one read, one render
             events._group_send()                 channel_layer.group_send("poll.<id>")
  Redis      PUBLISH, once per group
  process    hub.Hub._listen()                    one subscription per group  socket process (uvicorn)
             hub.SnapshotGate.offer()             at most one per interval, never an older one
             hub.Mailbox.post()                   one mailbox per socket
  socket     consumers.QuickPollConsumer._relay()
             PollResultsConsumer.results_snapshot() -> send()
  page       quickpoll.js liveSocket onmessage    version check, then the results' HTML

polls.announce calls the publish_* functions from transaction.on_commit (RealtimeConfig.ready()
registers this module as its listener), so nothing rolled back is ever announced. A broadcast
that fails (Redis down, say) is logged and dropped: the vote or like it announces has already
been committed and stays counted.

Every snapshot carries absolute counts and the poll's `results_version`, so one that is
missed is corrected by the next, and an older one may always be dropped. Four places
thin them out, each for a reason the others cannot cover:

1. Coalescer `results` (here, in each sending process): a vote only marks its poll
   changed; at most one snapshot per poll per RESULTS_INTERVAL leaves the process (at
   once when none left in the last interval). It bounds database reads, template renders
   and Redis messages, however fast votes come.
2. SnapshotGate (realtime.hub, in each socket process, per group): at most one snapshot
   per interval reaches the process's sockets however many HTTP processes send, the
   interval growing with the audience, and never one older than it already let through
   (senders' snapshots can arrive out of order).
3. Mailbox (realtime.hub, per socket): of snapshots only the newest waits, so a socket
   slow to write has a backlog of one, and catches up with the latest counts.
4. PollResultsConsumer.results_snapshot: a socket's first snapshot is read on connect,
   outside the stream, so the stream may still bring an older one; the consumer drops
   what is not newer than what it sent. quickpoll.js checks the version once more, the
   last word across reconnects, where a new socket starts with no memory of the old.
"""

import asyncio
import json
import logging
from datetime import datetime
from datetime import timezone as dt_timezone

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from accounts.models import Notification
from accounts.serializers import NotificationSerializer
from polls import decks, selectors
from polls.models import Poll
from realtime import broadcast_loop

logger = logging.getLogger(__name__)

RESULTS_INTERVAL = 0.1  # seconds between two snapshots of one poll, per server process
STATS_INTERVAL = 2.0  # seconds between two platform counters on /ws/global
SEND_TIMEOUT = 2.0  # a broadcast never holds a request longer than this

GLOBAL_GROUP = "global"


def poll_group(poll_id) -> str:
    return f"poll.{poll_id}"


def deck_group(deck_id) -> str:
    return f"deck.{deck_id}"


def user_group(user_id) -> str:
    return f"user.{user_id}"


def now_iso() -> str:
    return datetime.now(dt_timezone.utc).isoformat()


# --- Message shapes ---------------------------------------------------------------------------


def results_message(poll_id, *, languages: tuple[str, ...] = ()) -> dict | None:
    """The `results` snapshot of a poll as it is committed now; None if it is gone.

    `html` is in the active language; with `languages`, `html_in` holds the fragment in each of them too,
    so one read serves every socket in its own language (results_texts)."""
    poll = Poll.objects.filter(pk=poll_id).only(
        "id", "likes_count", "results_version", "is_active", "expires_at", "results_visibility", "author_id",
        # The fragment counts an approval poll's voters apart from its votes, and shows each method its way.
        "method", "score_min", "score_max",
    ).first()
    if poll is None:
        return None
    # A ranked poll's rounds are counted once per results version, whoever asks first (selectors.full_results).
    results = selectors.full_results(poll)
    # The same template the poll page includes, so the page and its live refreshes never disagree.
    context = {"poll": poll, "results": results, "my_votes": set(), "version": poll.results_version}
    html = render_to_string("polls/_results.html", context)
    html_in = {}
    for language in languages:
        with translation.override(language):
            html_in[language] = render_to_string("polls/_results.html", context)
    message = {
        "type": "results",
        "poll_id": str(poll.pk),
        "version": poll.results_version,
        **results,
        "likes_count": poll.likes_count,
        "is_open": poll.is_open,
        "server_time": now_iso(),
        "html": html,
    }
    if html_in:
        message["html_in"] = html_in
    return message


def results_texts(message: dict) -> dict[str, str]:
    """A snapshot from results_message(languages=...) encoded once per language: {language: JSON text}."""
    html_in = message.pop("html_in")
    return {language: json.dumps({**message, "html": html}) for language, html in html_in.items()}


def page_languages() -> tuple[str, ...]:
    return tuple(code for code, _ in settings.LANGUAGES)


def results_hidden_message(poll: Poll) -> dict:
    return {
        "type": "results_hidden",
        "poll_id": str(poll.pk),
        "reason": selectors.results_hidden_reason(poll),
        "visible_from": poll.expires_at.isoformat()
        if poll.results_visibility == Poll.ResultsVisibility.AFTER_CLOSE and poll.expires_at
        else None,
    }


def poll_summary(poll: Poll) -> dict:
    return {
        "id": str(poll.pk),
        "title": poll.title,
        "slug": poll.slug,
        "author": poll.author.public_name,
        "method": poll.method,
        "allow_multiple": poll.allow_multiple,
        "expires_at": poll.expires_at.isoformat() if poll.expires_at else None,
        "created_at": poll.created_at.isoformat(),
    }


# --- Sending ---------------------------------------------------------------------------------------


async def _group_send(group: str, message: dict) -> None:
    try:
        await asyncio.wait_for(get_channel_layer().group_send(group, message), SEND_TIMEOUT)
    except Exception:
        logger.warning("broadcast to %s skipped: the channel layer failed", group, exc_info=True)


class Coalescer:
    """Sends at most one message per key per interval, built when it leaves, not when asked for.

    The first request after a quiet interval leaves at once (on the loop's next turn, with whatever
    else was asked for meanwhile); one that comes sooner waits for the interval's end. Requests may
    carry notes (who voted); a message carries the notes of every request it answers, and the time of
    the earliest. It waits on the server's loop (realtime.broadcast_loop); called anywhere else, it
    sends at once.
    """

    def __init__(self, interval: float, send):
        self.interval = interval
        self.send = send  # async callable(key, notes, since)
        self._scheduled: set = set()
        self._notes: dict = {}
        self._since: dict = {}
        self._sent_at: dict = {}  # loop time of each key's last message, while within the interval

    async def request(self, key, notes=(), at: datetime | None = None) -> None:
        self._notes.setdefault(key, set()).update(notes)
        self._since.setdefault(key, at or datetime.now(dt_timezone.utc))
        if not broadcast_loop.on_server_loop():
            await self._flush(key)
            return
        if key in self._scheduled:
            return
        self._scheduled.add(key)
        wait = self._sent_at.get(key, float("-inf")) + self.interval - asyncio.get_running_loop().time()
        broadcast_loop.call_later(max(0.0, wait), self._flush, key)

    async def _flush(self, key) -> None:
        self._scheduled.discard(key)
        if broadcast_loop.on_server_loop():
            loop = asyncio.get_running_loop()
            sent_at = self._sent_at[key] = loop.time()
            loop.call_later(self.interval, self._forget, key, sent_at)
        await self.send(key, self._notes.pop(key, set()), self._since.pop(key, datetime.now(dt_timezone.utc)))

    def _forget(self, key, sent_at: float) -> None:
        # Once the interval is over, so that a process that saw many polls keeps no trail of them.
        if self._sent_at.get(key) == sent_at:
            del self._sent_at[key]


async def _send_results(poll_id, voters: set, committed_at: datetime) -> None:
    try:
        message = await database_sync_to_async(results_message)(poll_id, languages=page_languages())
    except Exception:
        logger.warning("results snapshot of poll %s skipped", poll_id, exc_info=True)
        return
    if message is not None:
        # The commit of the earliest change this snapshot answers: a client can tell how late it is.
        message["committed_at"] = committed_at.isoformat()
        # Encoded once per language here, not once per subscriber. `voters` (whose ballot was cast or taken
        # back since the last snapshot) stays between servers: only their sockets look again at what they may see.
        texts = results_texts(message)
        envelope = {
            "type": "results.snapshot",
            "texts": texts,
            "text": texts[settings.LANGUAGE_CODE],  # for sockets of an older release, during a rolling deploy
            "version": message["version"],
            "is_open": message["is_open"],
            "voters": sorted(voters),
            "committed_at": committed_at.timestamp(),  # for the socket processes' broadcast lag (quickpoll.metrics)
        }
        await _group_send(poll_group(poll_id), envelope)


def stats_message() -> dict:
    trending = [str(pk) for pk in selectors.trending_polls().values_list("pk", flat=True)[:5]]
    return {"type": "stats", **selectors.platform_stats(), "trending": trending, "server_time": now_iso()}


async def _send_stats(_key, _notes, _since) -> None:
    try:
        message = await database_sync_to_async(stats_message)()
    except Exception:
        logger.warning("platform counters skipped", exc_info=True)
        return
    await _group_send(GLOBAL_GROUP, {"type": "public.event", "message": message})


results = Coalescer(RESULTS_INTERVAL, _send_results)
stats = Coalescer(STATS_INTERVAL, _send_stats)


async def _request_results(poll_id, public: bool, voter_keys, committed_at: datetime) -> None:
    await results.request(str(poll_id), voter_keys, committed_at)
    if public:
        await stats.request("global")


async def _publish_ballots(changed: dict, confirmations: list, committed_at: datetime) -> None:
    for poll, voter_keys in changed.items():
        await _request_results(poll.pk, poll.is_public, voter_keys, committed_at)
    for user_id, message in confirmations:
        await _to_user(user_id, message)


async def _publish(group: str, message: dict) -> None:
    await broadcast_loop.in_background(_group_send(group, message))


async def _to_user(user_id, message: dict) -> None:
    await _publish(user_group(user_id), {"type": "user.event", "message": message})


# --- What services call (from transaction.on_commit) ------------------------------------------------


def publish_results_changed(poll: Poll) -> None:
    """Likes or votes of a poll changed: its subscribers get a fresh snapshot soon."""
    broadcast_loop.run_from_sync(_request_results, poll.pk, poll.is_public, [], datetime.now(dt_timezone.utc))


def publish_ballots(changed: dict[Poll, list[str]], confirmations: list[tuple]) -> None:
    """Ballots were committed: a snapshot soon for each poll (with who voted), and to each
    account voter's tabs the confirmation of their vote. One step onto the server's loop for all."""
    broadcast_loop.run_from_sync(_publish_ballots, changed, confirmations, datetime.now(dt_timezone.utc))


def publish_poll_event(poll: Poll, kind: str) -> None:
    """`poll.updated` or `poll.closed` to the poll's subscribers."""
    message = {
        "type": kind,
        "poll_id": str(poll.pk),
        "title": poll.title,
        "is_open": poll.is_open,
        "is_public": poll.is_public,
        "server_time": now_iso(),
    }
    broadcast_loop.run_from_sync(_publish, poll_group(poll.pk), {"type": "poll.event", "message": message})


def publish_presentation(poll: Poll) -> None:
    """The presenter started or ended presenting, or showed or hid the results: audience sockets look again."""
    message = {
        "type": "presentation.changed",
        "poll_id": str(poll.pk),
        "presenting": poll.is_presenting,
        "audience_results": poll.audience_results,
        "server_time": now_iso(),
    }
    broadcast_loop.run_from_sync(_publish, poll_group(poll.pk), {"type": "poll.event", "message": message})


def deck_message(deck) -> dict:
    return {"type": "deck.moved", **decks.deck_state(deck), "server_time": now_iso()}


def publish_deck_moved(deck) -> None:
    """Another poll of a deck is on screen: its audience's pages follow."""
    broadcast_loop.run_from_sync(_publish, deck_group(deck.pk), {"type": "deck.event", "message": deck_message(deck)})


def publish_poll_deleted(poll_id) -> None:
    message = {"type": "poll.deleted", "poll_id": str(poll_id), "server_time": now_iso()}
    broadcast_loop.run_from_sync(_publish, poll_group(poll_id), {"type": "poll.event", "message": message})


def publish_poll_created(poll: Poll) -> None:
    if poll.is_public:
        message = {"type": "poll.created", "poll": poll_summary(poll), "server_time": now_iso()}
        broadcast_loop.run_from_sync(_publish, GLOBAL_GROUP, {"type": "public.event", "message": message})


def publish_notification(notification: Notification) -> None:
    """The same body the REST notification list returns, live to every tab of the recipient: a new notice
    as `notification`, a grouped one whose count grew (same id, new text) as `notification.updated`."""
    kind = "notification.updated" if notification.grew else "notification"
    message = {"type": kind, "notification": NotificationSerializer(notification).data}
    publish_to_user(notification.recipient_id, message)


def publish_credentials_revoked(user_ids) -> None:
    """These accounts' credentials were revoked (accounts.services.revoke_credentials): their user sockets
    check their own again, and close with 4401 if they no longer hold."""
    for user_id in user_ids:
        broadcast_loop.run_from_sync(_publish, user_group(user_id), {"type": "user.credentials_revoked"})


def publish_to_user(user_id, message: dict) -> None:
    """A notification or a confirmation of the user's own vote or like, to all their tabs."""
    broadcast_loop.run_from_sync(_to_user, user_id, message)
