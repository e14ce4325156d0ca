"""The links QuickPoll mails: password reset, address confirmation, unsubscribe.

A link's token is signed (SECRET_KEY) and says whose account it is for, what it does and when it
was made. Reset and confirmation tokens also carry a fingerprint of the account's state (password,
address, address waiting for confirmation, whether it is confirmed): using the link changes that
state, and so does a password change, so a token works once and no longer once the password moves.
Nothing is stored: a token expires by its age (PASSWORD_RESET_TIMEOUT, EMAIL_CONFIRMATION_TIMEOUT).
"""

from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts import errors
from accounts.models import User


class Purpose(StrEnum):
    PASSWORD_RESET = "password-reset"
    CONFIRM_EMAIL = "confirm-email"
    UNSUBSCRIBE = "unsubscribe"


def _max_age(purpose: Purpose) -> int | None:
    if purpose is Purpose.PASSWORD_RESET:
        return settings.PASSWORD_RESET_TIMEOUT
    if purpose is Purpose.CONFIRM_EMAIL:
        return settings.EMAIL_CONFIRMATION_TIMEOUT
    return None  # unsubscribing keeps working as long as the mail is kept


def _fingerprint(user: User, purpose: Purpose) -> str:
    state = f"{user.pk}|{user.password}|{user.email}|{user.pending_email}|{user.is_verified}"
    return salted_hmac(f"quickpoll.accounts.tokens.{purpose}", state).hexdigest()[:20]


def make_token(user: User, purpose: Purpose, *, kind: str = "") -> str:
    payload = {"u": str(user.pk), "k": kind}
    if purpose is not Purpose.UNSUBSCRIBE:
        payload["f"] = _fingerprint(user, purpose)
    return signing.dumps(payload, salt=f"quickpoll.accounts.tokens.{purpose}", compress=True)


def read_token(token: str, purpose: Purpose) -> tuple[User, str]:
    """The account a token is for and the kind it names; InvalidToken if forged, expired, used or outdated."""
    try:
        payload = signing.loads(token, salt=f"quickpoll.accounts.tokens.{purpose}", max_age=_max_age(purpose))
        user = User.objects.get(pk=payload["u"], is_active=True)
    except signing.SignatureExpired:
        raise errors.InvalidToken(expired=True) from None
    except (signing.BadSignature, User.DoesNotExist, KeyError, TypeError, ValueError):
        raise errors.InvalidToken() from None
    if purpose is not Purpose.UNSUBSCRIBE and not constant_time_compare(payload.get("f", ""), _fingerprint(user, purpose)):
        raise errors.InvalidToken()
    return user, payload.get("k", "")
