"""WebSocket authentication by JWT access token, beside the browser session.

A client that cannot send cookies (a script, a mobile app) passes its access token
in the `token` query parameter or as a subprotocol: new WebSocket(url, ["bearer", token]).
A token that is present but invalid or expired is recorded in scope["auth_error"],
so the consumer refuses the socket instead of quietly treating it as anonymous.
"""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError

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
    authentication = JWTAuthentication()
    return authentication.get_user(authentication.get_validated_token(token.encode()))


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


class BrowserOriginValidator(OriginValidator):
    """Pages may open sockets only from our own hosts (no cross-site WebSocket hijacking).

    A client that sends no Origin at all is not a browser (a script, an app): the
    hijacking this guards against cannot happen there, so it passes.
    """

    def __init__(self, application):
        super().__init__(application, settings.ALLOWED_HOSTS)

    def valid_origin(self, parsed_origin):
        return parsed_origin is None or self.validate_origin(parsed_origin)
