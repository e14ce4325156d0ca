"""Who is voting: an account, or an anonymous visitor known by an anon_id.

Anonymous visitors get a random anon_id in a cookie the first time they take part;
API clients may send their own in the X-Anon-Id header instead.
"""

import re
import secrets
from dataclasses import dataclass

from django.conf import settings

from accounts.models import User
from polls import errors
from quickpoll.api import ANON_COOKIE, ANON_ID_PATTERN

INVITE_HEADER = "X-Invite"  # an API client's invite token; the vote body's `invite` field says the same
ANON_COOKIE_MAX_AGE = 365 * 24 * 3600
_ANON_ID = re.compile(ANON_ID_PATTERN)


def voter_key(*, user_id, anon_id: str) -> str:
    """Voter.key of whoever cast a stored ballot or like, from its user_id and anon_id."""
    return f"user:{user_id}" if user_id is not None else f"anon:{anon_id}"


@dataclass(frozen=True)
class Voter:
    user: User | None = None
    anon_id: str = ""
    ip_address: str | None = None
    user_agent: str = ""
    # The invite token this voter presents (polls.invites): what admits a ballot on an invite-only poll.
    invite: str = ""

    def __post_init__(self):
        if (self.user is None) == (not self.anon_id):
            raise ValueError("A voter is either an account or an anonymous id, not both or neither.")

    @property
    def is_anonymous(self) -> bool:
        return self.user is None

    @property
    def key(self) -> str:
        """One string per voter, account or anonymous (for sets and messages between servers)."""
        return voter_key(user_id=self.user.pk if self.user is not None else None, anon_id=self.anon_id)

    def lookup(self) -> dict:
        """Filter arguments selecting this voter's ballots or likes."""
        if self.user is not None:
            return {"user": self.user}
        return {"user__isnull": True, "anon_id": self.anon_id}

    def owns(self, record) -> bool:
        """Whether a ballot or like was made by this voter."""
        if self.user is not None:
            return record.user_id == self.user.pk
        return record.user_id is None and record.anon_id == self.anon_id

    def identity(self) -> dict:
        """Field values that record this voter on a new ballot or like."""
        return {"user": self.user, "anon_id": self.anon_id, "ip_address": self.ip_address}


def carries_no_identity(request) -> bool:
    """No credentials (a token, a key, a session) and no voter id of any kind: whoever sends this is an
    anonymous visitor who never took part, decided from the request's headers alone."""
    return not (
        "HTTP_AUTHORIZATION" in request.META
        or "HTTP_X_ANON_ID" in request.META
        or ANON_COOKIE in request.COOKIES
        or settings.SESSION_COOKIE_NAME in request.COOKIES
    )


def voter_from_request(request, *, issue: bool = True) -> Voter | None:
    """The voter behind a request; with `issue`, a first-time visitor gets a new anon_id.

    Without `issue`, a visitor who never took part is None (nothing to look up).
    """
    context = {
        "ip_address": request.META.get("REMOTE_ADDR") or None,
        "user_agent": request.headers.get("User-Agent", ""),
        "invite": request.headers.get(INVITE_HEADER, ""),
    }
    if request.user.is_authenticated:
        return Voter(user=request.user, **context)
    sent = request.headers.get("X-Anon-Id")
    if sent is not None and not _ANON_ID.match(sent):
        raise errors.InvalidAnonId()
    anon_id = sent or request.COOKIES.get(ANON_COOKIE, "")
    if not _ANON_ID.match(anon_id):
        if not issue:
            return None
        anon_id = secrets.token_urlsafe(24)
        # On the Django request (under DRF's wrapper), where AnonymousIdMiddleware looks.
        getattr(request, "_request", request).issued_anon_id = anon_id
    return Voter(anon_id=anon_id, **context)


class AnonymousIdMiddleware:
    """Hands a newly issued anon_id back to the browser as a long-lived cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        anon_id = getattr(request, "issued_anon_id", None)
        if anon_id and response.status_code < 400 and getattr(request, "anon_id_by_header_only", False):
            response.headers["X-Anon-Id"] = anon_id  # an embed's script keeps it (polls.views._framed)
        elif anon_id and response.status_code < 400:
            response.set_cookie(
                ANON_COOKIE,
                anon_id,
                max_age=ANON_COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
            response.headers["X-Anon-Id"] = anon_id
        return response


# A browser cannot set headers on a WebSocket: an embed's script names its anon_id as a subprotocol,
# new WebSocket(url, ["anon", anon_id]), as a bearer token may be (realtime.auth).
ANON_SUBPROTOCOL = "anon"


def anon_id_from_subprotocols(subprotocols) -> str:
    subprotocols = list(subprotocols or [])
    if ANON_SUBPROTOCOL not in subprotocols:
        return ""
    named = [protocol for protocol in subprotocols if protocol != ANON_SUBPROTOCOL]
    return named[0] if named else ""


def voter_from_scope(scope) -> Voter | None:
    """The voter behind a WebSocket (account, or the anon_id cookie, header or subprotocol); None if unknown."""
    user = scope.get("user")
    if user is not None and user.is_authenticated:
        return Voter(user=user)
    headers = dict(scope.get("headers") or [])
    anon_id = (
        headers.get(b"x-anon-id", b"").decode("latin-1")
        or anon_id_from_subprotocols(scope.get("subprotocols"))
        or scope.get("cookies", {}).get(ANON_COOKIE, "")
    )
    return Voter(anon_id=anon_id) if _ANON_ID.match(anon_id) else None
