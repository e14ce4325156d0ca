"""WebSocket authentication by JWT access token, beside the browser session.

A client that cannot send cookies (a script, a mobile app) passes its access token (or a personal API key
with the `read` scope, `qp_…`) in the `token` query parameter or as a subprotocol: new WebSocket(url, ["bearer", token]).
A token that is present but invalid or expired is recorded in scope["auth_error"],
so the consumer refuses the socket instead of quietly treating it as anonymous.
"""

from importlib import import_module
from urllib.parse import parse_qs, urlsplit

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import is_same_domain, split_domain_port, validate_host
from rest_framework.exceptions import AuthenticationFailed  # simplejwt's and API keys' refusals alike
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts.access_tokens import AccessTokenAuthentication
from accounts.api_keys import is_api_key, user_for_socket

BEARER_SUBPROTOCOL = "bearer"


def token_from_scope(scope) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0]
    subprotocols = scope.get("subprotocols") or []
    if BEARER_SUBPROTOCOL in subprotocols:
        candidates = [protocol for protocol in subprotocols if protocol != BEARER_SUBPROTOCOL]
        return candidates[0] if candidates else None
    return None


@database_sync_to_async
def _user_for_token(token: str):
    if is_api_key(token):
        return user_for_socket(token)  # a personal API key with the `read` scope, as reading results needs
    authentication = AccessTokenAuthentication()
    return authentication.get_user(authentication.get_validated_token(token.encode()))


async def still_authenticated(scope) -> bool:
    """Whether the credentials a socket was opened with still name its user: a password change ends a
    token (its fingerprint of the password) and other sessions (their hash of it); a ban or deletion all."""
    owner = scope.get("user")
    token = token_from_scope(scope)
    if token is not None:
        try:
            user = await _user_for_token(token)
        except (InvalidToken, AuthenticationFailed, TokenError):
            return False
    else:
        session = scope.get("session")
        if session is None or session.session_key is None:
            return False
        # Read afresh, not the copy loaded at connect: since then it may have been flushed or re-keyed.
        user = await get_user({"session": import_module(settings.SESSION_ENGINE).SessionStore(session.session_key)})
    return owner is not None and user.is_authenticated and user.pk == owner.pk


class JwtAuthMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        token = token_from_scope(scope)
        if token is not None:
            scope = dict(scope)
            try:
                scope["user"] = await _user_for_token(token)
            except (InvalidToken, AuthenticationFailed, TokenError):
                scope["auth_error"] = "token_not_valid"
        return await self.app(scope, receive, send)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin, default ports filled in; None if it names no http(s) origin."""
    try:
        parts = urlsplit(url.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme]


def _own_origin(scope) -> tuple[str, str, int] | None:
    """The origin of our own pages as this socket's request names it: its scheme and Host, if an allowed host."""
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    return _origin(f"{scheme}://{host}")


def _trusted(origin: tuple[str, str, int]) -> bool:
    """Whether CSRF_TRUSTED_ORIGINS names this origin (a `*.` host names its subdomains), as for forms."""
    scheme, host, port = origin
    for pattern in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in pattern
        trusted = _origin(pattern.replace("://*.", "://", 1))
        if trusted is None or trusted[0] != scheme or trusted[2] != port:
            continue
        if host == trusted[1] or (wildcard and is_same_domain(host, "." + trusted[1])):
            return True
    return False


def origin_allowed(scope) -> bool:
    """A browser's socket must come from our own pages: the same scheme, host and port as the socket
    (Django's CSRF rule for forms), or an origin in CSRF_TRUSTED_ORIGINS. No Origin at all is not a browser."""
    sent = [value for name, value in scope.get("headers") or [] if name == b"origin"]
    if not sent:
        return True
    origin = _origin(sent[0].decode("latin-1"))
    return origin is not None and (origin == _own_origin(scope) or _trusted(origin))


class BrowserOriginValidator:
    """Pages may open sockets only from our own origin (no cross-site WebSocket hijacking).

    A client that sends no Origin at all is not a browser (a script, an app): the
    hijacking this guards against cannot happen there, so it passes.
    """

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
