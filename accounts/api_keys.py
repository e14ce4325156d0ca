"""Personal API keys: made, checked and revoked here, and let into every API view by ApiKeyAuthentication.

A key is `qp_` and 43 random characters, sent as `Authorization: Bearer qp_…`. Only its SHA-256 is stored.

Scopes are enforced here, once, for every DRF view (their own permission classes differ, so a permission
class could be skipped): a safe method needs `read`; an unsafe one needs the scope the view names in
`api_key_scope` (or its `get_api_key_scope()` for per-action scopes); a view naming none refuses keys on
unsafe methods, and a view naming ACCOUNT_ONLY refuses them on every method. Refusals are 403
`insufficient_scope`.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS

from accounts import errors
from accounts.models import ApiKey, User
from accounts.services import end_open_sessions

READ = ApiKey.Scope.READ.value
VOTE = ApiKey.Scope.VOTE.value
MANAGE_POLLS = ApiKey.Scope.MANAGE_POLLS.value
SCOPES = [READ, VOTE, MANAGE_POLLS]
API_KEY_PREFIX = "qp_"
# Named by views that manage the account itself (password, deletion, the keys): no key may use them.
ACCOUNT_ONLY = "account_only"

# Plenty for every script and integration one person runs; a cap keeps a leaked session from minting thousands.
MAX_KEYS_PER_USER = 50
# Last use is written at most this often per key (and whenever the address changes): not one write per request.
LAST_USE_PRECISION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_api_key(credential: str) -> bool:
    return credential.startswith(API_KEY_PREFIX)


def create_api_key(*, user: User, name: str, scopes: list[str], expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key and its secret, which is returned this once and never stored."""
    chosen = [scope for scope in SCOPES if scope in set(scopes)]
    if not chosen or set(scopes) - set(SCOPES):
        raise errors.InvalidAccount({"scopes": [gettext("Choose one or more of: %s.") % ", ".join(SCOPES)]})
    if expires_at is not None and expires_at <= timezone.now():
        raise errors.InvalidAccount({"expires_at": [gettext("The expiry must be in the future.")]})
    if not name.strip():
        raise errors.InvalidAccount({"name": [gettext("Give the key a name, to know it again later.")]})
    with transaction.atomic():
        # Locks the owner's row so two requests at once cannot both pass the cap.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if ApiKey.objects.usable().filter(user=user).count() >= MAX_KEYS_PER_USER:
            raise errors.TooManyApiKeys()
        secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey.objects.create(
            user=user,
            name=name.strip(),
            scopes=" ".join(chosen),
            prefix=secret[: len(API_KEY_PREFIX) + 8],
            hashed_secret=_hash(secret),
            expires_at=expires_at,
        )
    return key, secret


def revoke_api_keys(*, keys: QuerySet[ApiKey]) -> int:
    """Revoke keys at once: requests with them fail from now on, and sockets opened with them close."""
    with transaction.atomic():
        revoking = keys.filter(revoked_at__isnull=True)
        user_ids = set(revoking.values_list("user_id", flat=True))
        count = revoking.update(revoked_at=timezone.now())
        end_open_sessions(user_ids=user_ids)
    return count


def key_for_secret(secret: str) -> ApiKey:
    """The key a secret names, if it still works; AuthenticationFailed says why not."""
    key = ApiKey.objects.select_related("user").filter(hashed_secret=_hash(secret)).first()
    if key is None or not key.user.is_active:
        raise exceptions.AuthenticationFailed(_("That API key is not valid."))
    if key.is_revoked:
        raise exceptions.AuthenticationFailed(_("That API key was revoked."))
    if key.is_expired:
        raise exceptions.AuthenticationFailed(_("That API key has expired."))
    return key


def _bearer_secret(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    kind, _space, credential = header.partition(" ")
    credential = credential.strip()
    if kind.lower() == "bearer" and is_api_key(credential):
        return credential
    return None


def key_of_request(request) -> ApiKey | None:
    """The working key a request carries, or None (no key, or one that does not work); asked once per request."""
    if not hasattr(request, "_api_key"):
        secret = _bearer_secret(request)
        try:
            request._api_key = key_for_secret(secret) if secret else None
        except (exceptions.AuthenticationFailed, DatabaseError):
            request._api_key = None
    return request._api_key


def record_use(key: ApiKey, *, address: str | None) -> None:
    now = timezone.now()
    if key.last_used_ip == address and key.last_used_at and now - key.last_used_at < LAST_USE_PRECISION:
        return
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=address)
    key.last_used_at, key.last_used_ip = now, address


def required_scope(view, method: str) -> str | None:
    """The scope a key needs for this view and method; None: no key may make this request."""
    named = view.get_api_key_scope() if hasattr(view, "get_api_key_scope") else getattr(view, "api_key_scope", None)
    if named == ACCOUNT_ONLY:
        return None
    if method in SAFE_METHODS:
        # A view whose reads show secrets (webhook endpoints' signing secrets) names a stronger scope for them.
        return getattr(view, "api_key_read_scope", READ)
    return named


class InsufficientScope(exceptions.APIException):
    status_code = 403
    default_code = "insufficient_scope"


def check_scope(key: ApiKey, view, method: str) -> None:
    needed = required_scope(view, method)
    if needed is None:
        raise InsufficientScope(gettext("API keys cannot do this; sign in to your account instead."))
    if needed not in key.scope_list:
        raise InsufficientScope(gettext("This API key lacks the %(scope)s scope.") % {"scope": needed})


def user_for_socket(secret: str) -> User:
    """A live-results socket opened with a key: it reads, so the key needs `read`."""
    key = key_for_secret(secret)
    if READ not in key.scope_list:
        raise exceptions.AuthenticationFailed(gettext("This API key lacks the %(scope)s scope.") % {"scope": READ})
    return key.user


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer qp_…`: request.user is the key's owner, request.auth the ApiKey.

    Other bearer tokens (JWTs) are left to the next authentication class.
    """

    def authenticate(self, request):
        secret = _bearer_secret(request)
        if secret is None:
            return None
        key = key_of_request(request._request)
        if key is None:
            key_for_secret(secret)  # raises, saying why
        check_scope(key, request.parser_context["view"], request.method)
        record_use(key, address=request.META.get("REMOTE_ADDR") or None)
        return key.user, key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """How the schema documents keys, beside the JWT: another bearer token."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API key, `qp_…`, limited to its scopes (read, vote, manage_polls).",
        }
