"""Site-wide endpoints: the home page, health and service information."""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from polls import selectors
from polls.models import MAX_OPTIONS
from quickpoll.api_errors import error_body

logger = logging.getLogger(__name__)

_CHECK_TIMEOUT = 2  # seconds: a health check must answer even when a backend hangs
HOME_CARDS = 6  # cards per home section


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"status": "ok", "backend": connection.vendor}
    except Exception as exc:  # any failure means "down", and the body says why
        logger.warning("health: database check failed: %s", exc)
        return {"status": "error", "backend": connection.vendor, "error": exc.__class__.__name__}


def _check_cache() -> dict:
    backend = "redis" if settings.REDIS_URL else "local-memory"
    try:
        cache.set("health:probe", "ok", timeout=10)
        if cache.get("health:probe") != "ok":
            raise RuntimeError("value did not round-trip")
        return {"status": "ok", "backend": backend}
    except Exception as exc:
        logger.warning("health: cache check failed: %s", exc)
        return {"status": "error", "backend": backend, "error": exc.__class__.__name__}


async def _probe_channel_layer() -> None:
    # A send to a group nobody joined exercises the layer's connection and leaves nothing behind.
    await asyncio.wait_for(get_channel_layer().group_send("health", {"type": "health.probe"}), _CHECK_TIMEOUT)


def _check_channel_layer() -> dict:
    backend = "redis" if settings.REDIS_URL else "in-process"
    try:
        async_to_sync(_probe_channel_layer)()
        return {"status": "ok", "backend": backend}
    except Exception as exc:
        logger.warning("health: channel layer check failed: %s", exc)
        return {"status": "error", "backend": backend, "error": exc.__class__.__name__}


@never_cache
@require_GET
def health(request):
    """Database down: 503, nothing works. Redis down: 200 "degraded", votes still go through."""
    checks = {"database": _check_database(), "cache": _check_cache(), "channel_layer": _check_channel_layer()}
    if checks["database"]["status"] != "ok":
        overall, status = "error", 503
    elif any(check["status"] != "ok" for check in checks.values()):
        overall, status = "degraded", 200
    else:
        overall, status = "ok", 200
    body = {"status": overall, "version": settings.APP_VERSION, "checks": checks}
    return JsonResponse(body, status=status)


@require_GET
def api_info(request):
    return JsonResponse(
        {
            "name": settings.APP_NAME,
            "version": settings.APP_VERSION,
            "environment": settings.ENVIRONMENT,
            "features": {
                "database": connection.vendor,
                "realtime": "redis" if settings.REDIS_URL else "in-process",
                "anonymous_voting": True,
                "rate_limiting": settings.RATE_LIMIT_ENABLED,
            },
            "limits": {
                "rate_limit_requests": settings.RATE_LIMIT_REQUESTS,
                "rate_limit_window_seconds": settings.RATE_LIMIT_WINDOW,
                "max_options_per_poll": MAX_OPTIONS,
                "anonymous_ballots_per_ip": settings.ANONYMOUS_BALLOTS_PER_IP,
                "max_file_size_bytes": settings.MAX_FILE_SIZE,
                "allowed_file_types": settings.ALLOWED_FILE_TYPES,
                "websocket_heartbeat_interval_seconds": settings.WEBSOCKET_HEARTBEAT_INTERVAL,
                "websocket_max_connections": settings.WEBSOCKET_MAX_CONNECTIONS,
            },
        }
    )


@require_GET
@vary_on_headers("Accept")
def home(request):
    if request.get_preferred_type(["text/html", "application/json"]) == "application/json":
        return JsonResponse(
            {
                "name": settings.APP_NAME,
                "version": settings.APP_VERSION,
                "description": "Real-time polls: create, vote and watch results move live.",
                "links": {
                    "health": request.build_absolute_uri("/health"),
                    "info": request.build_absolute_uri("/api/info"),
                    "admin": request.build_absolute_uri("/admin/"),
                },
            }
        )
    sections = [
        ("trending", _("Trending"), _("Open polls gathering votes and likes right now"), selectors.trending_polls()),
        ("popular", _("Popular"), _("Most votes and likes of all time"), selectors.popular_polls()),
        ("recent", _("Recent"), _("The newest polls"), selectors.recent_polls()),
    ]
    context = {
        "sections": [
            {"key": key, "title": title, "blurb": blurb, "cards": selectors.poll_cards(polls[:HOME_CARDS])}
            for key, title, blurb, polls in sections
        ],
        "stats": selectors.platform_stats(),
    }
    return render(request, "home.html", context)


# --- Error pages: JSON under /api/, a friendly page elsewhere ------------------------------

_ERRORS = {
    400: ("invalid", _("Bad request"), _("The request could not be understood.")),
    403: ("forbidden", _("Not allowed"), _("You do not have permission to see this page.")),
    404: ("not_found", _("Not found"), _("There is nothing here. The link may be old, or the poll deleted.")),
    500: ("server_error", _("Something went wrong"), _("We could not finish that. Please try again in a moment.")),
}


def _error_response(request, status: int):
    code, title, message = _ERRORS[status]
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code, message), status=status)
    return render(request, "error.html", {"status": status, "title": title, "message": message}, status=status)


def bad_request(request, exception):
    return _error_response(request, 400)


def permission_denied(request, exception):
    return _error_response(request, 403)


def page_not_found(request, exception):
    return _error_response(request, 404)


def server_error(request):
    return _error_response(request, 500)


def csrf_failure(request, reason=""):
    return _error_response(request, 403)
