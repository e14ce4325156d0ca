"""Postprocessing hooks for the OpenAPI schema drf-spectacular generates (see SPECTACULAR_SETTINGS)."""

import copy
import json

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.response import Response

from quickpoll import idempotency

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

# From the middleware (rate limits, outages) and JWT authentication, in front of every view.
_COMMON_ERRORS = {
    "401": "authentication_failed: the Authorization header holds a token that is malformed, expired or revoked.",
    "406": "not_acceptable: the Accept header names no media type this operation answers in.",
    "429": "rate_limited: too many requests from this address, or (votes, likes and taking them back) by this voter, in the window; see Retry-After.",
    "503": "service_unavailable: the database is briefly out of reach; see Retry-After.",
}
_RATE_HEADERS = {
    "X-RateLimit-Limit": "Requests allowed per window.",
    "X-RateLimit-Remaining": "Requests left in this window.",
    "X-RateLimit-Reset": "Seconds until the window starts afresh.",
}
_RETRY_AFTER = {
    # anonymous_limit (a network has used up its anonymous ballots on a poll) does not pass with time.
    "429": ("Seconds to wait before trying again (with rate_limited).", False),
    "503": ("Seconds to wait before trying again.", True),
}
_METHODS = {"get", "put", "patch", "post", "delete"}
_WRITES = {"put", "patch", "post", "delete"}


def strip_trailing_slashes(result, generator, request, public):
    """Document paths as the seed named them (/api/polls); both spellings are served."""
    result["paths"] = {path.rstrip("/") or "/": item for path, item in result["paths"].items()}
    return result


def document_common_answers(result, generator, request, public):
    """Add the answers that come from in front of every view, where its decorator left them out.

    Everywhere 401 (a bad token), 406 (an Accept header nothing satisfies), 429 (the rate limit) and 503 (the database out of reach); 403 on
    writes (a browser session without its CSRF token); 404 where a path names an object; 400 and 415
    where a body is parsed. Every answer carries the X-RateLimit-* headers; a 503 adds Retry-After,
    and so does a 429 rate_limited.
    """
    for path, item in result["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses = operation.get("responses", {})
            errors = dict(_COMMON_ERRORS)
            if method in _WRITES:
                errors["403"] = "forbidden: a signed-in browser session (cookieAuth) sent no CSRF token."
            if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
                errors["404"] = "not_found: nothing has that id, or the id is not one."
            if "requestBody" in operation:
                errors["400"] = "invalid: the body is malformed or breaks a rule; `fields` says where."
                errors["415"] = "unsupported_media_type: the body is not in one of the documented media types."
            for status, description in errors.items():
                # Fresh copies: a YAML rendering would turn shared objects into anchors and aliases.
                responses.setdefault(status, {"description": description, "content": copy.deepcopy(_ERROR)})
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                for name, text in _RATE_HEADERS.items():
                    headers[name] = _integer_header(text)
                if status in _RETRY_AFTER:
                    headers["Retry-After"] = _integer_header(*_RETRY_AFTER[status])
            operation["responses"] = dict(sorted(responses.items()))
    return result


# What an operation taking an Idempotency-Key (quickpoll.idempotency) may also answer.
_IDEMPOTENCY_ERRORS = {
    "400": "invalid_idempotency_key: the Idempotency-Key is not 8 to 255 visible characters; anon_id_required: "
    "an anonymous Idempotency-Key came without X-Anon-Id",
    "409": "idempotency_key_in_flight: the first request with this key is still being handled (see Retry-After)",
    "422": "idempotency_key_reused: this key was used for a different request (method, path or body)",
}


def document_idempotent_answers(result, generator, request, public):
    """On operations with an Idempotency-Key: its refusals, and the header that marks a replayed answer."""
    for item in result["paths"].values():
        for method, operation in item.items():
            if method not in _METHODS or not any(
                parameter["in"] == "header" and parameter["name"] == idempotency.HEADER
                for parameter in operation.get("parameters", [])
            ):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _IDEMPOTENCY_ERRORS.items():
                if status in responses:
                    responses[status]["description"] += f"; {description}"
                else:
                    responses[status] = {"description": description, "content": copy.deepcopy(_ERROR)}
            for status, response in responses.items():
                if status.startswith("2"):
                    response.setdefault("headers", {})[idempotency.REPLAYED_HEADER] = {
                        "description": "`true` when this is the kept answer to an earlier request with the same "
                        "Idempotency-Key, not a new one.",
                        "required": False,
                        "schema": {"type": "string", "enum": ["true"]},
                    }
    return result


def _integer_header(description: str, required: bool = True) -> dict:
    return {"description": description, "required": required, "schema": {"type": "integer"}}


class SchemaView(SpectacularAPIView):
    """/api/schema: YAML by default, JSON by Accept header or ?format=json.

    DRF's own ?format= switch is off project-wide (the export endpoint reads ?format=csv),
    so the schema view reads it itself.
    """

    def perform_content_negotiation(self, request, force=False):
        wanted = request.query_params.get("format")
        for renderer in self.get_renderers():
            if wanted and renderer.format == wanted:
                return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)


# ReDoc's default theme names Montserrat and Roboto, which its page fetched from Google Fonts: the same
# system fonts as QuickPoll's pages instead, and the brand colour, so the page loads from our origin only.
_SYSTEM_FONTS = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
REDOC_THEME = {
    "colors": {"primary": {"main": "#5b3df5"}},
    "typography": {
        "fontFamily": _SYSTEM_FONTS,
        "headings": {"fontFamily": _SYSTEM_FONTS},
        "code": {"fontFamily": 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace'},
    },
}


class SwaggerView(SpectacularSwaggerSplitView):
    """/docs: Swagger UI from our static files, in our own page (its language, colour scheme, stylesheet and plugins).

    The split view serves its start-up script as a file, so the page has no inline script.
    """

    template_name = "api_docs/swagger_ui.html"


class RedocView(SpectacularRedocView):
    """/redoc: ReDoc from our static files, configured through its element's attributes (no inline script)."""

    template_name = "api_docs/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        context = {
            "title": self.title,
            "redoc_standalone": self._redoc_standalone(),
            "schema_url": self._get_schema_url(request),
            "theme": json.dumps(REDOC_THEME),
        }
        return Response(data=context, template_name=self.template_name)
