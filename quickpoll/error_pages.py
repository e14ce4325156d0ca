"""QuickPoll's own error pages in development too.

With DEBUG on, Django answers an unknown URL or an exception with its technical pages, so a
developer never sees what users see. This middleware answers with the branded pages instead
(quickpoll.views' handlers), unless DEBUG_ERROR_PAGES asks for Django's on purpose.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from quickpoll import views

logger = logging.getLogger(__name__)


class BrandedErrorPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def _active(self) -> bool:
        return settings.DEBUG and not settings.DEBUG_ERROR_PAGES

    def __call__(self, request):
        response = self.get_response(request)
        # No URL matched (nothing resolved): with DEBUG this 404 is Django's technical page.
        if response.status_code == 404 and self._active() and getattr(request, "resolver_match", None) is None:
            return views.page_not_found(request, Http404())
        return response

    def process_exception(self, request, exception):
        if not self._active():
            return None
        if isinstance(exception, Http404):
            return views.page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return None  # handler403 answers it, DEBUG or not
        logger.error("uncaught exception in %s %s", request.method, request.path, exc_info=exception)
        return views.server_error(request)
