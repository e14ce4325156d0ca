"""Two-factor authentication: an authenticator app's codes (TOTP, RFC 6238, computed by pyotp) and recovery codes.

Signing in is two steps wherever it happens (the login page, the admin's login, the API): the password
gives a signed, short-lived challenge (sign_in_challenge), and the challenge plus a code give the session
or the tokens (complete_sign_in). Every code tried spends the account's two-factor budget
(quickpoll.ratelimits.spend_two_factor_budget), so six digits cannot be guessed in time.
"""

import base64
import hashlib
import hmac
import secrets

import pyotp
import segno
from django.conf import settings
from django.contrib.auth import authenticate
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import errors
from accounts.models import RecoveryCode, TwoFactor, User
from quickpoll.ratelimits import spend_two_factor_budget

RECOVERY_CODE_COUNT = 10
CHALLENGE_SECONDS = 5 * 60  # from the password to the code
_CHALLENGE_SALT = "accounts.two_factor.challenge"
# Codes of the step before and after now are taken too: phones' clocks drift, typing takes a while.
_ACCEPTED_STEPS = (0, -1, 1)


def two_factor_enabled(user: User) -> bool:
    return user.is_authenticated and TwoFactor.objects.filter(user=user).exists()


def new_secret() -> str:
    return pyotp.random_base32()


def setup_uri(*, user: User, secret: str) -> str:
    """The otpauth:// link an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=settings.APP_NAME)


def setup_qr_svg(uri: str, *, title: str) -> str:
    # Black on its own white quiet zone, so it scans on a dark page too (as the polls' share codes).
    return segno.make(uri, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff", omitsize=True, title=title)


def _normalized(code: str) -> str:
    """What was typed, without the spaces and dashes people copy along, in one case."""
    return "".join(code.split()).replace("-", "").lower()


def _hashed(recovery_code: str) -> str:
    # 80 random bits per code: a plain SHA-256 cannot be reversed by guessing, and finds the row by equality.
    return hashlib.sha256(_normalized(recovery_code).encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    """Replaces the account's recovery codes; the plain codes are returned to be shown once, never stored."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()  # 80 bits, 16 letters and digits
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(RecoveryCode(user=user, code_hash=_hashed(code)) for code in codes)
    return codes


def _matching_step(secret: str, code: str) -> int | None:
    totp = pyotp.TOTP(secret)
    now = totp.timecode(timezone.now())
    for offset in _ACCEPTED_STEPS:
        if hmac.compare_digest(totp.generate_otp(now + offset), code):
            return now + offset
    return None


def enable_two_factor(*, user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor on with the secret the set-up page showed, once the app proves it has it with a code.

    Returns the recovery codes, to be shown once.
    """
    step = _matching_step(secret, _normalized(code))
    if step is None:
        raise errors.InvalidTwoFactorCode()
    with transaction.atomic():
        # The OneToOne primary key referees two tabs confirming at once.
        _, created = TwoFactor.objects.get_or_create(user=user, defaults={"secret": secret, "last_used_step": step})
        if not created:
            raise errors.TwoFactorAlreadyOn()
        return _new_recovery_codes(user)


def check_code(*, request, user: User, code: str) -> str:
    """Take one second-factor code: the app's current one (once) or an unused recovery code (used up here).

    Returns "app" or "recovery"; raises InvalidTwoFactorCode, or RateLimited when the account's budget is spent.
    """
    spend_two_factor_budget(request, user)
    typed = _normalized(code)
    device = TwoFactor.objects.filter(user=user).first()
    if device is None:
        raise errors.InvalidTwoFactorCode()
    step = _matching_step(device.secret, typed) if typed.isdigit() else None
    # Conditional updates: of two requests with one code, the database lets exactly one through.
    if step is not None and TwoFactor.objects.filter(user=user, last_used_step__lt=step).update(last_used_step=step):
        return "app"
    if RecoveryCode.objects.filter(user=user, code_hash=_hashed(typed), used_at__isnull=True).update(used_at=timezone.now()):
        return "recovery"
    raise errors.InvalidTwoFactorCode()


def _confirm_password(request, user: User, password: str) -> None:
    # Through the backend, so a guessed password spends the account's login budget here too.
    if authenticate(request, username=user.username, password=password) != user:
        raise errors.WrongPassword()


def disable_two_factor(*, request, user: User, password: str, code: str) -> None:
    """Turn two-factor off: the password and a code, so neither a stolen session nor a stolen password alone can."""
    _confirm_password(request, user, password)
    check_code(request=request, user=user, code=code)
    with transaction.atomic():
        TwoFactor.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()


def regenerate_recovery_codes(*, request, user: User, password: str) -> list[str]:
    """New recovery codes; the old ones stop working. Returns the new ones, to be shown once."""
    _confirm_password(request, user, password)
    with transaction.atomic():
        return _new_recovery_codes(user)


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def sign_in_challenge(user: User) -> str:
    """What the password step hands on: signed, expiring after CHALLENGE_SECONDS, void once the password changes."""
    return signing.dumps({"user": str(user.pk), "password": _password_mark(user)}, salt=_CHALLENGE_SALT)


def _password_mark(user: User) -> str:
    return hashlib.sha256(user.password.encode()).hexdigest()[:16]


def user_for_challenge(challenge: str) -> User:
    try:
        signed = signing.loads(challenge, salt=_CHALLENGE_SALT, max_age=CHALLENGE_SECONDS)
        user = User.objects.get(pk=signed["user"], is_active=True)
    except (signing.BadSignature, User.DoesNotExist, ValidationError, KeyError, TypeError, ValueError):
        raise errors.TwoFactorChallengeInvalid() from None
    if not hmac.compare_digest(_password_mark(user), str(signed.get("password", ""))):
        raise errors.TwoFactorChallengeInvalid()
    return user


def complete_sign_in(*, request, challenge: str, code: str) -> tuple[User, str]:
    """The second step: the account the challenge names, once a code is right, and which kind of code it was."""
    user = user_for_challenge(challenge)
    kind = check_code(request=request, user=user, code=code)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user, kind
