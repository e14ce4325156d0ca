from typing import Callable

from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import errors
from accounts.models import User

MODERATORS_GROUP = "moderators"  # created with its permissions by migration 0003


def make_moderator(*, user: User) -> User:
    """Give an account the moderators' admin: staff status and the moderators group."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    return user


def _check_password(password: str, user: User, *, field: str = "password") -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise errors.InvalidAccount({field: list(exc.messages)}) from None


def _check_unique(*, username: str | None = None, email: str | None = None, exclude: User | None = None) -> None:
    """Login takes a username or an email in one field, so neither may equal another account's other."""
    others = User.objects.exclude(pk=exclude.pk) if exclude else User.objects.all()
    if username is not None and others.filter(Q(username__iexact=username) | Q(email__iexact=username)).exists():
        raise errors.UsernameTaken()
    if email is not None and others.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        raise errors.EmailTaken()


def register_user(*, username: str, email: str, password: str) -> User:
    email = User.objects.normalize_email(email)
    _check_unique(username=username, email=email)
    user = User(username=username, email=email)
    _check_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Lost a race with another sign-up for the same name or address.
        _check_unique(username=username, email=email)
        raise
    return user


def log_in(*, request, username: str, password: str) -> User:
    """Check credentials (username or email); inactive accounts cannot log in."""
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise errors.InvalidCredentials()
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user


_PROFILE_FIELDS = {"display_name", "bio", "avatar", "email"}


def update_profile(*, user: User, **changes) -> User:
    unknown = set(changes) - _PROFILE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    if "email" in changes:
        changes["email"] = User.objects.normalize_email(changes["email"])
        _check_unique(email=changes["email"], exclude=user)
        if changes["email"].lower() != user.email.lower():
            changes["is_verified"] = False
    for name, value in changes.items():
        setattr(user, name, value)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        _check_unique(email=user.email, exclude=user)
        raise
    return user


def change_password(*, user: User, current_password: str, new_password: str) -> User:
    """Change a password and end every other session: a stolen refresh token or open socket stops working too."""
    if not user.check_password(current_password):
        raise errors.WrongPassword()
    _check_password(new_password, user, field="new_password")
    user.set_password(new_password)
    with transaction.atomic():
        user.save(update_fields=["password", "updated_at"])
        revoke_credentials(user_ids=[user.pk])
    return user


# Apps above accounts keep what a login opened (realtime: live sockets). Each registers, from its
# AppConfig.ready(), how to end it when an account's credentials stop being good.
_on_credentials_revoked: list[Callable[[list], None]] = []


def on_credentials_revoked(end_sessions: Callable[[list], None]) -> None:
    """Have `end_sessions(user_ids)` run once a revocation of those accounts' credentials is committed."""
    if end_sessions not in _on_credentials_revoked:
        _on_credentials_revoked.append(end_sessions)


def revoke_credentials(*, user_ids) -> None:
    """These accounts' password changed, or they were banned or deleted: every refresh token they hold
    stops working now (access tokens carry the password's fingerprint, and an inactive account's are refused), and
    what else they opened (live sockets) is told to check its credentials again once this commits."""
    user_ids = list(user_ids)
    if not user_ids:
        return
    outstanding = OutstandingToken.objects.filter(user_id__in=user_ids, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True)

    def tell():
        for end_sessions in _on_credentials_revoked:
            end_sessions(user_ids)

    transaction.on_commit(tell)


def deactivate_users(*, users: QuerySet[User]) -> int:
    """Ban accounts: they can no longer log in, and what they have open ends. Returns how many were active."""
    with transaction.atomic():
        user_ids = list(users.filter(is_active=True).values_list("pk", flat=True))
        User.objects.filter(pk__in=user_ids).update(is_active=False, updated_at=timezone.now())
        revoke_credentials(user_ids=user_ids)
    return len(user_ids)


# Apps above accounts keep rows that count what a user did (polls: ballots and likes, whose
# counters must follow). Each registers, from its AppConfig.ready(), how to take them back.
_before_account_deletion: list[Callable[[User], None]] = []


def before_account_deletion(take_back: Callable[[User], None]) -> None:
    """Have `take_back(user)` run inside delete_account's transaction, before the account goes."""
    if take_back not in _before_account_deletion:
        _before_account_deletion.append(take_back)


def delete_account(*, user: User) -> None:
    """Delete an account; what it did elsewhere (votes, likes) is taken back first, counters following."""
    with transaction.atomic():
        for take_back in _before_account_deletion:
            take_back(user)
        revoke_credentials(user_ids=[user.pk])
        user.delete()
