"""Every limit QuickPoll puts on one client, where it is enforced, and what the client is told.

Setting                    Counts                                   Enforced by                 Refused with
-------------------------  ---------------------------------------  --------------------------  -------------------------
RATE_LIMIT_REQUESTS        /api/ requests per client IP (login and  ApiRateLimitMiddleware      429 rate_limited
                           register have the next budget; requests
                           with a working API key the one after)
API_KEY_RATE_LIMIT         /api/ requests per API key, from any     ApiRateLimitMiddleware      429 rate_limited
                           address (a key that does not work
                           spends its address's budget instead)
RATE_LIMIT_AUTH_REQUESTS   login and register attempts per IP,      the middleware; pages and   429 rate_limited; page:
                           API, pages and admin together            admin: spend_auth_budget    form error; admin: 429
RATE_LIMIT_AUTH_REQUESTS   login attempts per account (by username  spend_login_budget, in the  429 rate_limited; page:
                           or email alike), from any address, API,  authentication backend      form error; admin: 429
                           pages and admin together                 (every password check)
RATE_LIMIT_AUTH_REQUESTS   two-factor codes tried per account       spend_two_factor_budget     429 rate_limited; page:
                           (app or recovery codes), from any        (accounts.two_factor, each  form error
                           address, API and pages together          code checked)
RATE_LIMIT_VOTER_REQUESTS  votes, retractions, likes, unlikes and  spend_voter_budget (the     429 rate_limited; page:
                           suggested options per voter (account or  polls API and pages)        message
                           anon_id)
RATE_LIMIT_INVITE_REQUESTS invite links opened (/i/<token>) per     spend_invite_budget (the    429 page (a guesser's
                           client IP                                invite link's page)         budget)
RATE_LIMIT_INVITE_REQUESTS invite batches made per account          spend_invite_creation_      429 rate_limited; page:
                                                                    budget (API and pages)      message
RATE_LIMIT_JOIN_MISSES     join codes that name nothing, per client  refuse_join_guessing, then  429 rate_limited; page:
                           IP (codes that work cost nothing: a      count_join_miss (join       message
                           room behind one address joins freely)    pages and API lookups)
RATE_LIMIT_EXPORT_REQUESTS downloads of one's own data per account  spend_export_budget (the     429 rate_limited; page:
                           (each reads every row they wrote)        accounts API and pages)     message
RATE_LIMIT_AUTH_REQUESTS   password reset requests and confirms,    the middleware; pages:      429 rate_limited; page:
                           confirmation mails asked again, per IP   spend_auth_budget           form error
RATE_LIMIT_MAIL_PER_ADDRESS account mails (reset, confirmation) to  may_send_account_mail       not refused: the same
  (per hour)               one address                              (accounts.mail)             answer, no mail
ANONYMOUS_BALLOTS_PER_IP   anonymous ballots standing on one poll   polls.ballot_box, under a   429 anonymous_limit, no
                           from one IP (no window; ballots cast     lock where it is written    Retry-After; page: message
                           with an invite are not counted), and as  (polls.anonymous_cap); the
                           many anonymous likes                     likes: like_poll, the same
WEBSOCKET_MAX_CONNECTIONS  open WebSockets from one client address  realtime.consumers, before  close code 4429, reason
  _PER_ADDRESS             (an IPv6 /64) in one server process      the cap below               "too many sockets from
                                                                                                your address"
WEBSOCKET_MAX_CONNECTIONS  open WebSockets in one server process    realtime.consumers          close code 4429, reason
                                                                                                "server full"
BOT_DEFENCE_*_THRESHOLD    anonymous ballots per BOT_DEFENCE_WINDOW  polls.bot_defence (adaptive  not refused: 428
                           from one IP (an IPv6 /64), and on one     polls only)                 challenge_required until a
                           poll                                                                  proof of work comes along

The first ten are budgets of requests per RATE_LIMIT_WINDOW seconds (the mails per address: per hour),
counted in the shared cache by django-ratelimit; RATE_LIMIT_ENABLED=false switches those ten off. A spent budget raises
RateLimited (quickpoll.errors), which the API's exception handler answers with 429
{"code": "rate_limited", "detail"} and Retry-After, and pages turn into their message. Every /api/
response also reports its budget (per IP, or per API key) in X-RateLimit-Limit, X-RateLimit-Remaining and
X-RateLimit-Reset (seconds until the window starts afresh).

Every refusal, the socket caps' too, is counted at /metrics in quickpoll_rate_limit_refusals_total,
labelled with its rule: the budget's group name here, websocket-address or websocket-server.

When the cache (Redis) is unreachable the budgets fail open: requests are served and the failure
is logged, because refusing every vote while Redis restarts would hurt voters more than a minute
without limits.
"""

import ipaddress
import logging
import re
from dataclasses import dataclass
from typing import Callable

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from quickpoll import metrics
from quickpoll.api_errors import domain_error_response
from quickpoll.errors import RateLimited

logger = logging.getLogger(__name__)

def client_network(address: str) -> str:
    """Whose requests count together: the address, or for IPv6 its /64, which one client holds whole
    and can pick source addresses from at will (django-ratelimit's "ip" key masks the same way)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address  # a unix socket's path, say: still one client
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


# Account creation and login are the targets of password guessing: a tighter budget.
_AUTH_PATHS = re.compile(
    r"^/api/users/(login|login/two-factor|register|password-reset|password-reset/confirm|email/confirm|me/email/resend)/?$"
)

# accounts.api_keys registers, from its AppConfig.ready(), how to find the working API key a request carries.
_api_key_of: Callable[[HttpRequest], object | None] | None = None


def count_api_keys_with(key_of: Callable[[HttpRequest], object | None]) -> None:
    """Have requests whose `key_of(request)` names a key (with a `pk`) spend that key's budget, not their IP's."""
    global _api_key_of
    _api_key_of = key_of


@dataclass(frozen=True)
class RateUsage:
    rule: str  # the budget's name (its django-ratelimit group): api, auth-ip, voter, ...
    limit: int
    remaining: int
    reset: int
    limited: bool


def _count(request, *, group: str, limit: int, key, increment: bool = True, window: int | None = None) -> RateUsage:
    """Count this request against `limit` per RATE_LIMIT_WINDOW (or `window` seconds) for `key` (a
    django-ratelimit key); without `increment`, only look at what was counted."""
    window = window or settings.RATE_LIMIT_WINDOW
    if not settings.RATE_LIMIT_ENABLED:
        return RateUsage(rule=group, limit=limit, remaining=limit, reset=window, limited=False)
    try:
        usage = get_usage(request, group=group, key=key, rate=(limit, window), increment=increment)
    except Exception:
        logger.warning("rate limit check failed for %s; serving the request unlimited", group, exc_info=True)
        usage = None
    if usage is None:
        return RateUsage(rule=group, limit=limit, remaining=limit, reset=window, limited=False)
    return RateUsage(
        rule=group,
        limit=limit,
        remaining=max(limit - usage["count"], 0),
        reset=max(int(usage["time_left"]), 1),
        limited=usage["should_limit"] if increment else usage["count"] >= limit,
    )


def _refuse_if_spent(usage: RateUsage) -> None:
    """Every refusal of a spent budget passes here (the middleware's too), so each is counted once."""
    if usage.limited:
        metrics.rate_limit_refusals.labels(rule=usage.rule).inc()
        raise RateLimited(usage.reset)


def _auth_ip_usage(request) -> RateUsage:
    return _count(request, group="auth-ip", limit=settings.RATE_LIMIT_AUTH_REQUESTS, key="ip")


def spend_auth_budget(request) -> None:
    """A login or register attempt from this request's IP; the API's are counted by the middleware."""
    _refuse_if_spent(_auth_ip_usage(request))


def spend_login_budget(request, account_key: str) -> None:
    """A login attempt on one account from anywhere: a password is not guessed from many addresses.

    `account_key` names the account however the login spelled it (accounts.backends.login_account_key);
    the authentication backend spends it, so the API, the pages and the admin share one budget.
    """
    limit = settings.RATE_LIMIT_AUTH_REQUESTS
    _refuse_if_spent(_count(request, group="auth-account", limit=limit, key=lambda group, req: account_key))


def spend_two_factor_budget(request, user) -> None:
    """A two-factor code tried on one account from anywhere: six digits must not be guessed from many addresses."""
    limit = settings.RATE_LIMIT_AUTH_REQUESTS
    _refuse_if_spent(_count(request, group="two-factor", limit=limit, key=lambda group, req: str(user.pk)))


def spend_voter_budget(request, voter) -> None:
    """A vote, retraction, like, unlike or suggested option by one voter (a polls.voters.Voter), from whatever address.

    `voter` is None for a visitor the server has never met: they have nothing to take back (the
    services refuse them), so nothing is counted.
    """
    if voter is not None:
        limit = settings.RATE_LIMIT_VOTER_REQUESTS
        _refuse_if_spent(_count(request, group="voter", limit=limit, key=lambda group, req: voter.key))


def spend_invite_budget(request) -> None:
    """An invite link opened from this request's IP: tokens are unguessable, and guessing is kept slow too."""
    _refuse_if_spent(_count(request, group="invite-ip", limit=settings.RATE_LIMIT_INVITE_REQUESTS, key="ip"))


def refuse_join_guessing(request) -> None:
    """Before a join code is looked up: refused once this IP has typed RATE_LIMIT_JOIN_MISSES codes that named
    nothing (a code is short enough to guess; the polls behind them include unlisted ones)."""
    _refuse_if_spent(_count(request, group="join-miss", limit=settings.RATE_LIMIT_JOIN_MISSES, key="ip", increment=False))


def count_join_miss(request) -> None:
    """A join code that named nothing, from this request's IP."""
    _count(request, group="join-miss", limit=settings.RATE_LIMIT_JOIN_MISSES, key="ip")


def spend_invite_creation_budget(request) -> None:
    """A batch of invites made by one account (each batch may send mail)."""
    limit = settings.RATE_LIMIT_INVITE_REQUESTS
    _refuse_if_spent(_count(request, group="invite-create", limit=limit, key=lambda group, req: str(req.user.pk)))


def spend_export_budget(request, user) -> None:
    """A download of one's own data (accounts.personal_data), which reads every row the account wrote."""
    limit = settings.RATE_LIMIT_EXPORT_REQUESTS
    _refuse_if_spent(_count(request, group="export", limit=limit, key=lambda group, req: str(user.pk)))


def may_send_account_mail(request, address: str) -> bool:
    """One more account mail (reset, confirmation) to this address this hour? Not refused when spent:
    the caller answers as if it sent one, so the answer says nothing of the address."""
    key = address.strip().lower()
    usage = _count(
        request, group="mail-address", limit=settings.RATE_LIMIT_MAIL_PER_ADDRESS, window=3600, key=lambda group, req: key
    )
    if usage.limited:
        metrics.rate_limit_refusals.labels(rule=usage.rule).inc()
    return not usage.limited


class ApiRateLimitMiddleware:
    """Counts every /api/ request against its budget (its API key's, else its IP's) and reports it in its headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        api_key = _api_key_of(request) if _api_key_of is not None else None
        if _AUTH_PATHS.match(request.path):
            usage = _auth_ip_usage(request)
        elif api_key is not None:
            usage = _count(request, group="api-key", limit=settings.API_KEY_RATE_LIMIT, key=lambda group, req: str(api_key.pk))
        else:
            usage = _count(request, group="api", limit=settings.RATE_LIMIT_REQUESTS, key="ip")
        try:
            _refuse_if_spent(usage)
        except RateLimited as refusal:
            response = domain_error_response(refusal)
        else:
            response = self.get_response(request)
        response.headers["X-RateLimit-Limit"] = str(usage.limit)
        response.headers["X-RateLimit-Remaining"] = str(usage.remaining)
        response.headers["X-RateLimit-Reset"] = str(usage.reset)
        return response
