"""WebSocket consumers. They only relay: what to send is decided in realtime.events and polls.selectors."""

import asyncio
import json
import logging
import random
import time
from collections import Counter

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from accounts.languages import language_of_scope
from polls import selectors
from polls.models import Deck, Poll
from polls.permissions import can_see_results
from polls.voters import ANON_SUBPROTOCOL, voter_from_scope
from quickpoll import metrics
from quickpoll.outages import CLOSE_UNAVAILABLE, DATABASE_DOWN
from quickpoll.ratelimits import client_network
from realtime import events
from realtime.auth import BEARER_SUBPROTOCOL, still_authenticated
from realtime.hub import Mailbox, hub

logger = logging.getLogger(__name__)

# Close codes: 4xxx mirror the HTTP status a REST client would get.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_GONE = 4410
CLOSE_TOO_MANY_CONNECTIONS = 4429
# The standard "Service Restart": this server is stopping; the page reconnects, to another one if there is.
CLOSE_SERVICE_RESTART = 1012
# The reason sent with 4429 tells a client which cap it met.
REASON_ADDRESS_FULL = "too many sockets from your address"
REASON_SERVER_FULL = "server full"


def client_address(scope) -> str | None:
    """Whose sockets count together: the client's address (uvicorn resolves it behind the trusted proxies of
    FORWARDED_ALLOW_IPS, as granian does for HTTP); an IPv6 client holds a whole /64, so the /64."""
    client = scope.get("client")
    if not client or not client[0]:
        return None
    return client_network(client[0])


class QuickPollConsumer(AsyncWebsocketConsumer):
    """Common to every socket: the connection cap, ping/pong, heartbeats, bad frames, and the relay.

    Client frames take Channels' usual path (websocket_connect, websocket_receive, ...).
    Group messages do not: they come from this process's hub (realtime.hub), which listens
    once per group, through the socket's mailbox, and _relay() hands them to the handler
    their type names (results.snapshot -> results_snapshot). Channels would close stale
    database connections before each one, a thread hop per message per socket; every query
    here goes through database_sync_to_async, which does that itself.
    """

    # No channel of its own in the layer: with no layer under this alias, Channels gives the
    # socket none (self.channel_layer is None) and listens to the client only.
    channel_layer_alias = None

    open_connections = 0  # in this server process
    open_per_address: Counter = Counter()  # in this server process, by client_address()
    accepted: set["QuickPollConsumer"] = set()  # in this server process: the sockets a shutdown closes
    stopping = False  # this server process is stopping: a new socket is sent on at once (realtime.lifespan)

    async def connect(self):
        self.mailbox = Mailbox()
        self.joined: list[str] = []
        self.heartbeat = self.relay = None
        self.counted = False
        self.address = client_address(self.scope)
        if QuickPollConsumer.stopping:
            await self._refuse(CLOSE_SERVICE_RESTART)
            return
        # Counted before any await, so two connections cannot both take the last place. One client's
        # cap comes first: a client that opens a thousand sockets meets its own, not everyone's.
        from_address = QuickPollConsumer.open_per_address[self.address] if self.address else 0
        if from_address >= settings.WEBSOCKET_MAX_CONNECTIONS_PER_ADDRESS:
            metrics.rate_limit_refusals.labels(rule="websocket-address").inc()
            await self._refuse(CLOSE_TOO_MANY_CONNECTIONS, REASON_ADDRESS_FULL)
            return
        if QuickPollConsumer.open_connections >= settings.WEBSOCKET_MAX_CONNECTIONS:
            metrics.rate_limit_refusals.labels(rule="websocket-server").inc()
            await self._refuse(CLOSE_TOO_MANY_CONNECTIONS, REASON_SERVER_FULL)
            return
        QuickPollConsumer.open_connections += 1
        if self.address:
            QuickPollConsumer.open_per_address[self.address] += 1
        self.counted = True
        metrics.open_sockets.inc()
        try:
            refusal = CLOSE_UNAUTHENTICATED if self.scope.get("auth_error") else await self.authorize()
            if refusal is not None:
                await self._refuse(refusal)
                return
            for group in self.groups_to_join():
                await hub().join(group, self.mailbox)
                self.joined.append(group)
            await self.accept(self._subprotocol())
            QuickPollConsumer.accepted.add(self)
            self.heartbeat = asyncio.create_task(self._beat())
            await self.opened()
            self.relay = asyncio.create_task(self._relay())
        except BaseException:
            # Channels calls disconnect() only when the client leaves; a connect that raised (the
            # database out of reach: SocketOutageMiddleware closes the socket) gives its place back now.
            await self.disconnect(None)
            raise

    async def disconnect(self, code):
        QuickPollConsumer.accepted.discard(self)
        if not getattr(self, "counted", False):
            return
        QuickPollConsumer.open_connections -= 1
        metrics.open_sockets.dec()
        if self.address:
            QuickPollConsumer.open_per_address[self.address] -= 1
            if QuickPollConsumer.open_per_address[self.address] <= 0:
                del QuickPollConsumer.open_per_address[self.address]  # a process serving many clients keeps no trail
        self.counted = False
        for task in (self.heartbeat, self.relay):
            if task is not None:
                task.cancel()
        for group in self.joined:
            hub().leave(group, self.mailbox)

    async def _relay(self):
        """Group messages, in the order the mailbox gives them, to their handlers, until disconnect()."""
        while True:
            message = await self.mailbox.next()
            try:
                await getattr(self, get_handler_name(message))(message)
            except DATABASE_DOWN as exc:
                logger.error("database unavailable during socket %s: %s", self.scope.get("path"), exc)
                await self.close(code=CLOSE_UNAVAILABLE)  # the client comes back soon, as on connect
                return
            except Exception:
                logger.exception("socket %s could not handle %s", self.scope.get("path"), message["type"])
                await self.close()  # a client reconnects, and starts again from a fresh snapshot
                return

    async def close_for_restart(self):
        """This server is stopping: the client is told to reconnect (1012), and hears nothing more from here."""
        QuickPollConsumer.accepted.discard(self)
        for task in (self.heartbeat, self.relay):
            if task is not None:
                task.cancel()
        await self.close(code=CLOSE_SERVICE_RESTART)

    async def _refuse(self, code: int, reason: str | None = None):
        # Accepted first, so that every client, not only test harnesses, can read why it was closed.
        await self.accept(self._subprotocol())
        await self.close(code=code, reason=reason)

    def _subprotocol(self) -> str | None:
        """The subprotocol the client named its credential with (a browser fails a socket that gets none back)."""
        offered = self.scope.get("subprotocols") or []
        return next((protocol for protocol in (BEARER_SUBPROTOCOL, ANON_SUBPROTOCOL) if protocol in offered), None)

    async def _beat(self):
        while True:
            await asyncio.sleep(settings.WEBSOCKET_HEARTBEAT_INTERVAL)
            await self.send_json({"type": "heartbeat", "server_time": events.now_iso()})

    async def send_json(self, message: dict):
        await self.send(text_data=json.dumps(message))

    async def receive(self, text_data=None, bytes_data=None):
        try:
            frame = json.loads(text_data if text_data is not None else bytes_data)
        except (TypeError, ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            await self.send_json({"type": "error", "code": "invalid_json", "detail": "Send JSON frames."})
            return
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong", "server_time": events.now_iso()})
        else:
            await self.send_json({"type": "error", "code": "unknown_type", "detail": "Send {\"type\": \"ping\"}."})

    async def user_credentials_revoked(self, event):
        """On the user's group: the account's password changed, or it was banned or deleted. The socket
        ends unless the credentials it was opened with still hold."""
        if not await still_authenticated(self.scope):
            await self.close(code=CLOSE_UNAUTHENTICATED)

    # Overridden by each socket kind.
    async def authorize(self) -> int | None:
        """None to serve the socket, or the close code that refuses it."""
        return None

    def groups_to_join(self) -> list[str]:
        return []

    async def opened(self):
        pass


@database_sync_to_async
def _load_poll(poll_id) -> Poll | None:
    return Poll.objects.select_related("author").filter(pk=poll_id).first()


# One read per poll at a time for this process: sockets that look together (a room on connect, a
# presenter's reveal) share the read, the render and the encoding instead of each making its own.
_snapshots_in_flight: dict[str, asyncio.Future] = {}


def _read_snapshot(poll_id) -> tuple[dict, dict[str, str]] | None:
    message = events.results_message(poll_id, languages=events.page_languages())
    return None if message is None else (message, events.results_texts(message))


async def _shared_snapshot(poll_id) -> tuple[dict, dict[str, str]] | None:
    """A results snapshot read now, or by a read that started moments ago and is still under way."""
    key = str(poll_id)
    reading = _snapshots_in_flight.get(key)
    if reading is None:
        reading = asyncio.ensure_future(database_sync_to_async(_read_snapshot)(poll_id))
        _snapshots_in_flight[key] = reading
        reading.add_done_callback(lambda _: _snapshots_in_flight.pop(key, None))
    # shield: one socket leaving mid-read does not cancel the read the others wait for.
    return await asyncio.shield(reading)


@database_sync_to_async
def _has_voted(poll: Poll, voter) -> bool:
    state = selectors.voter_states(polls=[poll], voter=voter).get(poll.pk)
    return bool(state and state.has_voted)


# Sends whose lag from the commit is observed, at random: an observation costs about 4 µs (multi-process
# mode), a twentieth of what a send costs a socket, so timing every one would slow a big room's fan-out.
BROADCAST_LAG_SAMPLE = 0.1


class PollResultsConsumer(QuickPollConsumer):
    """/ws/poll/{id}: a results snapshot now and whenever counts change, if the poll's rule lets you see them."""

    async def authorize(self):
        self.poll = await _load_poll(self.scope["url_route"]["kwargs"]["poll_id"])
        if self.poll is None:
            return CLOSE_NOT_FOUND
        self.voter = voter_from_scope(self.scope)
        self.version_sent = -1
        # The fragments this socket is sent, in the language its pages speak (accounts.languages).
        self.language = language_of_scope(self.scope)
        return None

    def groups_to_join(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return [events.poll_group(self.poll.pk)]
        # Signed in, it may show what only that account may see (a manager's results): it ends with a ban too.
        return [events.poll_group(self.poll.pk), events.user_group(user.pk)]

    async def user_event(self, event):
        pass  # the user's notifications are the user socket's to show

    async def _can_see(self, *, is_open: bool) -> bool:
        if is_open != self.poll.is_open:  # closed or reopened since we looked: after_close depends on it
            self.poll = await _load_poll(self.poll.pk) or self.poll
        has_voted = False
        if self.poll.results_visibility == Poll.ResultsVisibility.AFTER_VOTE and self.voter:
            has_voted = await _has_voted(self.poll, self.voter)
        return can_see_results(poll=self.poll, user=self.scope.get("user"), has_voted=has_voted)

    async def _send_snapshot(self):
        snapshot = await _shared_snapshot(self.poll.pk)
        if snapshot is None:
            return
        message, texts = snapshot
        if await self._can_see(is_open=message["is_open"]):
            self.version_sent = message["version"]
            await self.send(text_data=texts.get(self.language) or texts[settings.LANGUAGE_CODE])
        else:
            await self.send_json(events.results_hidden_message(self.poll))

    async def opened(self):
        self.results_visible = False
        await self._send_snapshot()
        self.results_visible = self.version_sent >= 0

    async def results_snapshot(self, event):
        if event["version"] <= self.version_sent:
            return  # an older snapshot overtaken by a newer one
        own_ballot_changed = self.voter is not None and self.voter.key in event["voters"]
        if own_ballot_changed or event["is_open"] != self.poll.is_open:
            # This subscriber voted or took their vote back, or the poll closed or reopened: look again.
            await self._look_again(is_open=event["is_open"])
        if self.results_visible:
            self.version_sent = event["version"]
            await self.send(text_data=event.get("texts", {}).get(self.language) or event["text"])
            # committed_at is absent from a sender of an older release, during a rolling deploy.
            if "committed_at" in event and random.random() < BROADCAST_LAG_SAMPLE:
                metrics.broadcast_lag.observe(time.time() - event["committed_at"])

    async def _look_again(self, *, is_open: bool):
        """Whether results may still (or now) be shown; a socket that showed them says when they hide, and
        one that could not gets them at once when they show (a presenter's reveal waits for no vote)."""
        was_visible = self.results_visible
        self.results_visible = await self._can_see(is_open=is_open)
        if was_visible and not self.results_visible:
            self.version_sent = -1
            await self.send_json(events.results_hidden_message(self.poll))
        elif self.results_visible and not was_visible:
            await self._send_snapshot()

    async def poll_event(self, event):
        message = event["message"]
        await self.send_json(message)
        if message["type"] == "poll.deleted":
            await self.close(code=CLOSE_GONE)
            return
        if message["type"] == "presentation.changed":
            # The message says all that changed: a room of sockets looks again without a read each.
            self.poll.presenting_since = (self.poll.presenting_since or timezone.now()) if message["presenting"] else None
            self.poll.audience_results = message["audience_results"]
        else:
            # Its visibility rule or open state may have changed: look again, and say so if results now hide.
            self.poll = await _load_poll(self.poll.pk) or self.poll
        await self._look_again(is_open=self.poll.is_open)


class UserConsumer(QuickPollConsumer):
    """/ws/user/{id}: that user's notifications and confirmations, for that user alone."""

    async def authorize(self):
        user = self.scope.get("user")
        if self.scope.get("auth_error") or user is None or not user.is_authenticated:
            return CLOSE_UNAUTHENTICATED
        if str(user.pk).replace("-", "") != self.scope["url_route"]["kwargs"]["user_id"].replace("-", "").lower():
            return CLOSE_FORBIDDEN
        return None

    def groups_to_join(self):
        return [events.user_group(self.scope["user"].pk)]

    async def user_event(self, event):
        await self.send_json(event["message"])


class GlobalConsumer(QuickPollConsumer):
    """/ws/global: public activity only; unlisted polls never appear here."""

    def groups_to_join(self):
        return [events.GLOBAL_GROUP]

    async def opened(self):
        await self.send_json(await database_sync_to_async(events.stats_message)())

    async def public_event(self, event):
        await self.send_json(event["message"])


@database_sync_to_async
def _deck_message(deck_id) -> dict | None:
    deck = Deck.objects.filter(pk=deck_id).first()
    return events.deck_message(deck) if deck else None


class DeckConsumer(QuickPollConsumer):
    """/ws/deck/{id}: which of a deck's polls is on screen, now and at every move. Anyone holding the deck's
    code may follow it, as anyone holding a poll's link may open it."""

    async def authorize(self):
        self.deck_id = self.scope["url_route"]["kwargs"]["deck_id"]
        self.first = await _deck_message(self.deck_id)
        return CLOSE_NOT_FOUND if self.first is None else None

    def groups_to_join(self):
        return [events.deck_group(self.deck_id)]

    async def opened(self):
        await self.send_json(self.first)

    async def deck_event(self, event):
        await self.send_json(event["message"])


class UnknownSocket(QuickPollConsumer):
    """A /ws/ path that names no socket."""

    async def authorize(self):
        return CLOSE_NOT_FOUND
