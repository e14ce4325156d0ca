"""When the database is out of reach, say so with a 503 and a code, not a 500.

PostgreSQL restarting (a deploy, a failover) makes queries fail with
OperationalError or InterfaceError for a few seconds. Django's connection health
checks (CONN_HEALTH_CHECKS) replace the broken connections on the next request,
so the server recovers by itself; until then clients are told to retry: HTTP
requests with a 503, WebSockets with close code 4503.
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from quickpoll.api_errors import error_body

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# A socket's 503. Unlike the other 4xxx refusals it says "come back": quickpoll.js reconnects.
# (WebSocket's own 1013 "Try Again Later" cannot be sent: daphne only sends 1000 and 3000-4999.)
CLOSE_UNAVAILABLE = 4503

DATABASE_DOWN = (OperationalError, InterfaceError)


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_DOWN):
            return None
        logger.error("database unavailable during %s %s: %s", request.method, request.path, exception)
        message = "The service is briefly unavailable. Please try again in a few seconds."
        if request.path.startswith("/api/"):
            response = JsonResponse(error_body("service_unavailable", message), status=503)
        else:
            # Rendered without the request: its context processors (the user, the unread badge)
            # would need the very database that is down.
            context = {"status": 503, "title": "Back in a moment", "message": message, "APP_NAME": settings.APP_NAME}
            response = HttpResponse(render_to_string("error.html", context), status=503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


class SocketOutageMiddleware:
    """ASGI middleware for WebSockets: the database out of reach closes the socket with 4503.

    Otherwise a lookup that fails (the session's or the token's user, the poll, the
    first snapshot) fails the handshake with an HTTP 500, or the open socket with
    1011, and a client cannot tell "try again" from a bug.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        sent: set[str] = set()

        async def watched_send(message):
            sent.add(message["type"])
            await send(message)

        try:
            return await self.app(scope, receive, watched_send)
        except DATABASE_DOWN as exc:
            logger.error("database unavailable during socket %s: %s", scope.get("path"), exc)
            if "websocket.close" in sent:
                return
            if "websocket.accept" not in sent:
                # Accepted first, as the consumers' refusals are, so that every client can read the code.
                await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_UNAVAILABLE})
