"""One error shape for the whole API: {"code": ..., "detail": ..., "fields": {...}}.

Domain errors (quickpoll.errors.DomainError) carry their own code and status; DRF's exceptions get
stable codes here. `fields` appears on validation errors only.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from quickpoll.errors import DomainError

_CODES = [
    (exceptions.NotAuthenticated, "login_required"),
    (exceptions.AuthenticationFailed, "authentication_failed"),
    (exceptions.PermissionDenied, "forbidden"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "rate_limited"),
    (exceptions.ParseError, "invalid"),
    (exceptions.ValidationError, "invalid"),
]


class ErrorSerializer(serializers.Serializer):
    """The body of every API error (documented in the OpenAPI schema)."""

    code = serializers.CharField(help_text="Stable, machine-readable: already_voted, not_found, invalid, ...")
    detail = serializers.CharField(help_text="A sentence for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors by field name.",
    )


def error_body(code: str, detail: str, fields: dict | None = None) -> dict:
    body = {"code": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return body


def _domain_error_body(exc: DomainError) -> dict:
    return error_body(exc.code, exc.message, getattr(exc, "fields", None))


def domain_error_response(exc: DomainError) -> JsonResponse:
    """The API's answer to a domain error raised outside DRF's views (in middleware)."""
    return JsonResponse(_domain_error_body(exc), status=exc.status, headers=exc.headers)


def _code_for(exc: exceptions.APIException) -> str:
    for exc_class, code in _CODES:
        if isinstance(exc, exc_class):
            return code
    return exc.default_code


def _messages(errors) -> list[str]:
    """Flatten DRF's nested errors (list items, nested objects) into plain sentences."""
    if isinstance(errors, dict):
        out = []
        for key, value in errors.items():
            label = gettext("Item %(number)d") % {"number": int(key) + 1} if str(key).isdigit() else str(key)
            out += [f"{label}: {message}" for message in _messages(value)]
        return out
    if isinstance(errors, (list, tuple)):
        return [message for item in errors for message in _messages(item)]
    return [str(errors)]


def _detail(detail) -> str:
    """One sentence from an exception's detail, which may be a string, a list or a dict."""
    if isinstance(detail, dict) and "detail" in detail:
        return str(detail["detail"])
    return " ".join(_messages(detail))


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(_domain_error_body(exc), status=exc.status, headers=exc.headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        fields = {field: _messages(value) for field, value in errors.items()}
        response.data = error_body("invalid", gettext("Some fields are not valid."), fields)
    else:
        response.data = error_body(_code_for(exc), _detail(exc.detail))
    return response
