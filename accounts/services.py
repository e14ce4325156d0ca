from typing import Callable

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)

from accounts import errors
from accounts.models import User
from accounts.notifications import forget_actor
from accounts.usernames import (
    canonical_username,
    display_name_skeleton,
    username_skeleton,
)

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


def _others(exclude: User | None):
    return User.objects.exclude(pk=exclude.pk) if exclude else User.objects.all()


def check_username(username: str, *, exclude: User | None = None) -> str:
    """The username as it will be stored (NFKC), unless it is, or reads like, another account's.

    Every way an account gets or changes its name (the API, the pages, the admin) asks this.
    Login takes a username or an email in one field, so a username may not be another's email either.
    """
    username = canonical_username(username)
    try:
        # Folding may lengthen a name or bring in a character names may not hold (¼ is 1⁄4).
        for validate in User._meta.get_field("username").validators:
            validate(username)
    except ValidationError as exc:
        raise errors.InvalidAccount({"username": list(exc.messages)}) from None
    others = _others(exclude)
    if others.filter(Q(username__iexact=username) | Q(email__iexact=username)).exists():
        raise errors.UsernameTaken()
    if others.filter(username_skeleton=username_skeleton(username)).exists():
        raise errors.ConfusableUsername()
    return username


def check_display_name(display_name: str, *, user: User | None) -> None:
    """A display name may read like its own account's username, never like another's."""
    if display_name and _others(user).filter(username_skeleton=display_name_skeleton(display_name)).exists():
        raise errors.ConfusableDisplayName()


def _check_unique(*, username: str | None = None, email: str | None = None, exclude: User | None = None) -> None:
    if username is not None:
        check_username(username, exclude=exclude)
    if email is not None and _others(exclude).filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        raise errors.EmailTaken()


def register_user(*, username: str, email: str, password: str) -> User:
    email = User.objects.normalize_email(email)
    username = check_username(username)
    _check_unique(email=email)
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


def register_superuser(*, username: str, email: str, password: str) -> User:
    """An account with every permission, held to the same name, address and password rules as any sign-up."""
    with transaction.atomic():
        user = register_user(username=username, email=email, password=password)
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
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
    if "display_name" in changes:
        check_display_name(changes["display_name"], user=user)
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


def choose_language(*, user: User, language: str) -> User:
    """The account's language wins over the cookie and the browser's on every device (accounts.languages)."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unsupported language {language!r}")
    user.language = language
    user.save(update_fields=["language", "updated_at"])
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
    """Delete an account and erase its personal data; every count stays equal to the rows it counts.

    What it did elsewhere (votes, likes, its polls) is taken back first, counters following; other
    people's notifications stop naming it; its notifications and reports go with it, its API tokens
    are revoked (kept, without the account, until they expire), and its avatar file is removed
    once the deletion is committed.
    """
    avatar = user.avatar.name
    with transaction.atomic():
        for take_back in _before_account_deletion:
            take_back(user)
        forget_actor(user)
        # Blacklisted, not deleted: a refresh token missing from the list would pass its check.
        revoke_credentials(user_ids=[user.pk])
        user.delete()
        if avatar:
            storage = user.avatar.storage
            transaction.on_commit(lambda: storage.delete(avatar))


def delete_own_account(*, user: User, password: str) -> None:
    """A user deletes their own account; the password confirms it is them, not a borrowed session or token."""
    if not user.check_password(password):
        raise errors.WrongPassword(gettext("That password is not right."))
    delete_account(user=user)
