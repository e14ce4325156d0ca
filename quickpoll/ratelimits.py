"""Rate limits for the API, counted in the shared cache by django-ratelimit.

Every /api/ response reports its limit in X-RateLimit-Limit, X-RateLimit-Remaining
and X-RateLimit-Reset (seconds until the window starts afresh); a 429 adds
Retry-After. When the cache (Redis) is unreachable the limits fail open: requests
are served and the failure is logged, because refusing every vote while Redis
restarts would hurt voters more than a minute without limits.
"""

import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.http import JsonResponse
from django_ratelimit.core import get_usage

from accounts.backends import find_account
from quickpoll.api_errors import error_body

logger = logging.getLogger(__name__)

# Account creation and login are the targets of password guessing: a tighter budget.
_AUTH_PATHS = re.compile(r"^/api/users/(login|register)/?$")


@dataclass(frozen=True)
class RateUsage:
    limit: int
    remaining: int
    reset: int
    limited: bool


def check_rate(request, *, group: str, limit: int, key) -> RateUsage:
    """Count this request against `limit` per RATE_LIMIT_WINDOW for `key` (a django-ratelimit key)."""
    window = settings.RATE_LIMIT_WINDOW
    if not settings.RATE_LIMIT_ENABLED:
        return RateUsage(limit=limit, remaining=limit, reset=window, limited=False)
    try:
        usage = get_usage(request, group=group, key=key, rate=(limit, window), increment=True)
    except Exception:
        logger.warning("rate limit check failed for %s; serving the request unlimited", group, exc_info=True)
        usage = None
    if usage is None:
        return RateUsage(limit=limit, remaining=limit, reset=window, limited=False)
    return RateUsage(
        limit=limit,
        remaining=max(limit - usage["count"], 0),
        reset=max(int(usage["time_left"]), 1),
        limited=usage["should_limit"],
    )


def auth_ip_usage(request) -> RateUsage:
    """Login and register attempts from one IP, from the API and the pages together."""
    return check_rate(request, group="auth-ip", limit=settings.RATE_LIMIT_AUTH_REQUESTS, key="ip")


def login_account_usage(request, identifier: str) -> RateUsage:
    """Login attempts on one account from anywhere: a password is not guessed from many addresses.

    Counted per account, whether it is named by username or by email address.
    """
    user = find_account(identifier)
    account = str(user.pk) if user is not None else identifier.casefold()
    return check_rate(
        request, group="auth-account", limit=settings.RATE_LIMIT_AUTH_REQUESTS, key=lambda group, req: account
    )


def voter_usage(request, voter) -> RateUsage:
    """Votes and likes by one voter (an account or an anon_id), from whatever address."""
    return check_rate(request, group="voter", limit=settings.RATE_LIMIT_VOTER_REQUESTS, key=lambda g, r: voter.key)


def rate_limited_response(usage: RateUsage) -> JsonResponse:
    response = JsonResponse(
        error_body("rate_limited", f"Too many requests; try again in {usage.reset} seconds."), status=429
    )
    response.headers["Retry-After"] = str(usage.reset)
    return response


def set_rate_headers(response, usage: RateUsage) -> None:
    response.headers["X-RateLimit-Limit"] = str(usage.limit)
    response.headers["X-RateLimit-Remaining"] = str(usage.remaining)
    response.headers["X-RateLimit-Reset"] = str(usage.reset)


class ApiRateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        if _AUTH_PATHS.match(request.path):
            usage = auth_ip_usage(request)
        else:
            usage = check_rate(request, group="api", limit=settings.RATE_LIMIT_REQUESTS, key="ip")
        response = rate_limited_response(usage) if usage.limited else self.get_response(request)
        set_rate_headers(response, usage)
        return response
