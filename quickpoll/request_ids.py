import structlog


class RequestIdHeaderMiddleware:
    """Hands the request id back in X-Request-ID, so a report of a problem can name its log lines."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        return response
