from typing import Callable

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import errors, mail, tokens
from accounts.models import ApiKey, User
from accounts.notifications import forget_actor
from accounts.usernames import canonical_username, display_name_skeleton, username_skeleton
from quickpoll.models import IdempotencyRecord
# The module, not its names: ratelimits imports DRF, whose settings import accounts.api_keys, which imports this.
from quickpoll import ratelimits
from quickpoll.time_zones import known_zone

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


def check_time_zone(name: str) -> str:
    """An account's time zone: an IANA name QuickPoll knows ("Europe/Paris"), or "" for none."""
    if name and known_zone(name) is None:
        raise errors.InvalidAccount({"time_zone": [gettext("Not a time zone QuickPoll knows.")]})
    return name


def register_user(*, username: str, email: str, password: str, time_zone: str = "") -> User:
    email = User.objects.normalize_email(email)
    username = check_username(username)
    _check_unique(email=email)
    user = User(username=username, email=email, time_zone=check_time_zone(time_zone))
    _check_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
            send_email_confirmation(user=user)
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


_PROFILE_FIELDS = {"display_name", "bio", "avatar", "email", "time_zone"}


def update_profile(*, user: User, **changes) -> User:
    unknown = set(changes) - _PROFILE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    if "display_name" in changes:
        check_display_name(changes["display_name"], user=user)
    if "time_zone" in changes:
        check_time_zone(changes["time_zone"])
    new_email = changes.pop("email", None)
    for name, value in changes.items():
        setattr(user, name, value)
    with transaction.atomic():
        user.save()
        if new_email is not None:
            request_email_change(user=user, new_email=new_email)
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
    """These accounts' password changed, or they were banned or deleted: every refresh token and API key they hold
    stops working now (access tokens carry the password's fingerprint, and an inactive account's are refused), and
    what else they opened (live sockets) is told to check its credentials again once this commits."""
    user_ids = list(user_ids)
    if not user_ids:
        return
    outstanding = OutstandingToken.objects.filter(user_id__in=user_ids, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True)
    # API keys are credentials too: a ban, a deletion or a password change (a stolen account) ends them.
    ApiKey.objects.filter(user_id__in=user_ids, revoked_at__isnull=True).update(revoked_at=timezone.now())
    end_open_sessions(user_ids=user_ids)


def end_open_sessions(*, user_ids) -> None:
    """Once this commits, what these accounts opened (live sockets) checks its credentials again."""
    user_ids = list(user_ids)

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
    are revoked (kept, without the account, until they expire), the answers kept for its
    Idempotency-Key retries are dropped, and its avatar file is removed
    once the deletion is committed.
    """
    avatar = user.avatar.name
    with transaction.atomic():
        for take_back in _before_account_deletion:
            take_back(user)
        forget_actor(user)
        # The answers kept for its Idempotency-Key retries hold its polls and ballots.
        IdempotencyRecord.objects.of_account(user.pk).delete()
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


# --- Mail: password reset, address confirmation, notification mails (accounts.mail, accounts.tokens) ---


def _link(url_name: str, token: str) -> str:
    return mail.absolute_url(reverse(url_name, args=[token]))


def password_reset_hours() -> int:
    """How long a reset link works, as the mail and the page say it: in whole hours, at least one."""
    return max(settings.PASSWORD_RESET_TIMEOUT // 3600, 1)


def request_password_reset(*, request, email: str) -> None:
    """Mail a reset link to the active account with this address, if there is one. Callers answer the same
    either way, and an address gets at most RATE_LIMIT_MAIL_PER_ADDRESS of these an hour."""
    user = User.objects.filter(email__iexact=User.objects.normalize_email(email).strip(), is_active=True).first()
    if user is None or not ratelimits.may_send_account_mail(request, user.email):
        return
    link = _link("password-reset-confirm", tokens.make_token(user, tokens.Purpose.PASSWORD_RESET))
    context = {"user": user, "link": link, "hours": password_reset_hours()}
    mail.send_account_mail(user=user, to=user.email, name="password_reset", context=context)


def reset_password(*, token: str, new_password: str) -> User:
    """Set a new password from a reset link. The link dies (the password it was made under is gone), every
    session and token of the account ends, and the address is confirmed: the mail reached its owner."""
    user, _kind = tokens.read_token(token, tokens.Purpose.PASSWORD_RESET)
    _check_password(new_password, user, field="new_password")
    user.set_password(new_password)
    with transaction.atomic():
        user.is_verified = True
        user.save(update_fields=["password", "is_verified", "updated_at"])
        revoke_credentials(user_ids=[user.pk])
    return user


def send_email_confirmation(*, user: User, request=None) -> bool:
    """Mail a confirmation link to the address waiting to be confirmed (a new one, else the account's own if
    unconfirmed). With a request, the address's hourly mail budget is spent. False when there is nothing to
    confirm or the budget is spent."""
    address = user.pending_email or ("" if user.is_verified else user.email)
    if not address or (request is not None and not ratelimits.may_send_account_mail(request, address)):
        return False
    link = _link("confirm-email", tokens.make_token(user, tokens.Purpose.CONFIRM_EMAIL))
    context = {
        "user": user,
        "link": link,
        "address": address,
        "is_change": bool(user.pending_email),
        "days": settings.EMAIL_CONFIRMATION_TIMEOUT // 86400 or 1,
    }
    mail.send_account_mail(user=user, to=address, name="confirm_email", context=context)
    return True


def request_email_change(*, user: User, new_email: str) -> User:
    """A new address waits in pending_email until its link is followed; the account keeps the old one till then.

    Asking again replaces the waiting address (and kills the earlier link); asking for the current address
    cancels the change.
    """
    new_email = User.objects.normalize_email(new_email).strip()
    if new_email.lower() == user.email.lower():
        if user.pending_email:
            user.pending_email = ""
            user.save(update_fields=["pending_email", "updated_at"])
        return user
    _check_unique(email=new_email, exclude=user)
    with transaction.atomic():
        user.pending_email = new_email
        user.save(update_fields=["pending_email", "updated_at"])
        send_email_confirmation(user=user)
    return user


def confirm_email(*, token: str) -> User:
    """Follow a confirmation link: a new address replaces the old (which is told), or the address is confirmed."""
    user, _kind = tokens.read_token(token, tokens.Purpose.CONFIRM_EMAIL)
    old_email = user.email
    with transaction.atomic():
        if user.pending_email:
            # Taken meanwhile by another account: refused; the unique index referees a race.
            _check_unique(email=user.pending_email, exclude=user)
            user.email, user.pending_email = user.pending_email, ""
        user.is_verified = True
        try:
            with transaction.atomic():
                user.save(update_fields=["email", "pending_email", "is_verified", "updated_at"])
        except IntegrityError:
            raise errors.EmailTaken() from None
        if user.email != old_email:
            context = {"user": user, "new_email": user.email, "reset_url": mail.absolute_url(reverse("password-reset"))}
            mail.send_account_mail(user=user, to=old_email, name="email_changed", context=context)
    return user


def set_email_preferences(*, user: User, **wanted: bool) -> User:
    """Opt in or out of notification mails by kind (accounts.mail.NOTIFICATION_KINDS)."""
    unknown = set(wanted) - set(mail.NOTIFICATION_KINDS)
    if unknown:
        raise ValueError(f"Not a kind of notification mail: {', '.join(sorted(unknown))}")
    fields = [mail.NOTIFICATION_KINDS[kind] for kind in wanted]
    for kind, value in wanted.items():
        setattr(user, mail.NOTIFICATION_KINDS[kind], bool(value))
    user.save(update_fields=[*fields, "updated_at"])
    return user


def unsubscribe(*, token: str) -> tuple[User, str]:
    """The unsubscribe link of a notification mail: that kind stops. Returns the account and the kind."""
    user, kind = tokens.read_token(token, tokens.Purpose.UNSUBSCRIBE)
    if kind not in mail.NOTIFICATION_KINDS:
        raise errors.InvalidToken()
    set_email_preferences(user=user, **{kind: False})
    return user, kind
