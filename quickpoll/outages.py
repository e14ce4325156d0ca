"""When the database is out of reach, say so with a 503 and a code, not a 500.

PostgreSQL restarting (a deploy, a failover) makes queries fail with
OperationalError or InterfaceError for a few seconds. Django's connection health
checks (CONN_HEALTH_CHECKS) replace the broken connections on the next request,
so the server recovers by itself; until then clients are told to retry.
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from quickpoll.api_errors import error_body

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class DatabaseOutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
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
