import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.usernames import username_skeleton


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, username):
        # "Alice" and "alice" are one account: usernames are unique without case.
        return self.get(username__iexact=username)


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address")
    is_verified = models.BooleanField(default=False, help_text=_("The email address has been confirmed."))
    display_name = models.CharField(max_length=80, blank=True)
    # How the username reads (accounts.usernames): look-alike names are found by equality here.
    username_skeleton = models.CharField(max_length=1000, editable=False, db_index=True, default="")
    bio = models.TextField(max_length=500, blank=True)
    # An IANA name (quickpoll.time_zones); empty: not chosen, pages write UTC and the page script the browser's zone.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    avatar = models.ImageField(upload_to="avatars/%Y/%m/", blank=True)
    # Kept by webhooks: while False (most accounts), a vote on this author's poll asks nothing about webhooks.
    has_webhooks = models.BooleanField(default=False, editable=False)
    # Blank: follow the language cookie, then the browser's Accept-Language (accounts.languages).
    language = models.CharField(max_length=8, blank=True, choices=settings.LANGUAGES)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # --- Mail (accounts.mail): a new address waits here until its link is followed; mails by kind, opt-in.
    pending_email = models.EmailField(_("new email address, not yet confirmed"), blank=True)
    email_poll_closed = models.BooleanField(_("a poll of mine closed, with its final results"), default=False)
    email_report_handled = models.BooleanField(_("moderators handled a report on a poll of mine"), default=False)
    email_weekly_digest = models.BooleanField(_("a weekly digest of my polls' activity"), default=False)
    digest_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    # created_at and display_name replace Django's date_joined and first/last name.
    date_joined = None
    first_name = None
    last_name = None

    REQUIRED_FIELDS = ["email"]
    objects = UserManager()

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        return self.username

    def save(self, *args, **kwargs):
        # Derived from this row's own username, so whatever saves one (services, admin, createsuperuser) keeps it in step.
        self.username_skeleton = username_skeleton(self.username)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_skeleton"}
        super().save(*args, **kwargs)

    @property
    def public_name(self) -> str:
        """How the user is named to others: a display name always beside the username it cannot pass for."""
        if self.display_name and self.display_name != self.username:
            return f"{self.display_name} (@{self.username})"
        return self.username

    def get_full_name(self):
        return self.public_name

    def get_short_name(self):
        return self.public_name


class Notification(models.Model):
    class Kind(models.TextChoices):
        VOTE = "vote", _("Someone voted on your poll")
        LIKE = "like", _("Someone liked your poll")
        REPORT = "report", _("Someone reported your poll")
        POLL_CLOSED = "poll_closed", _("Your poll closed")
        POLL_HELD = "poll_held", _("Moderators put your poll on hold")
        HOLD_LIFTED = "hold_lifted", _("Moderators lifted the hold on your poll")
        WRITE_IN = "write_in", _("Someone suggested an option for your poll")
        WEBHOOK_FAILING = "webhook_failing", _("One of your webhook endpoints is failing")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    poll = models.ForeignKey("polls.Poll", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    payload = models.JSONField(default=dict, blank=True)
    # How many events this one notice tells of: likes of one poll group into its unread notice.
    count = models.PositiveIntegerField(default=1)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Not stored: True on the instance accounts.notifications.notify() returns when events counted into an
    # unread notice (live tabs update it) rather than starting one (live tabs add it to the badge).
    grew = False

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.recipient}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class AuditEntry(models.Model):
    """One moderation action: who did what to which poll or account, when and why. Written once, never changed.

    The target is kept as text too (kind, id, label), so the entry outlives the poll or account it names.
    """

    class Action(models.TextChoices):
        POLL_HELD = "poll_held", "Poll put on hold"
        HOLD_LIFTED = "hold_lifted", "Hold lifted"
        POLL_CLOSED = "poll_closed", "Poll closed"
        POLL_REOPENED = "poll_reopened", "Poll reopened"
        POLL_EDITED = "poll_edited", "Poll edited"
        POLL_DELETED = "poll_deleted", "Poll deleted"
        OPTIONS_REMOVED = "options_removed", "Options removed"
        BALLOTS_VOIDED = "ballots_voided", "Ballots voided"
        VOTES_REMOVED = "votes_removed", "Votes removed"
        LIKES_REMOVED = "likes_removed", "Likes removed"
        REPORTS_HANDLED = "reports_handled", "Reports handled"
        WRITE_IN_ACCEPTED = "write_in_accepted", "Suggested option accepted"
        WRITE_IN_REJECTED = "write_in_rejected", "Suggested option rejected"
        POLL_PRESENTED = "poll_presented", "Presentation changed"
        ANSWERS_HIDDEN = "answers_hidden", "Answers hidden or shown"
        ANSWERS_REMOVED = "answers_removed", "Answers removed"
        USERS_DEACTIVATED = "users_deactivated", "Users deactivated"
        USER_CHANGED = "user_changed", "User changed"
        USER_DELETED = "user_deleted", "User deleted"
        API_KEYS_REVOKED = "api_keys_revoked", "API keys revoked"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=30, choices=Action.choices)
    target_kind = models.CharField(max_length=30)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    reason = models.TextField(blank=True, max_length=1000)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["target_kind", "target_id"], name="audit_target_idx")]

    def __str__(self):
        return f"{self.actor_label}: {self.get_action_display()} ({self.target_label})"


class ApiKeyQuerySet(models.QuerySet):
    def usable(self, *, now=None):
        """Keys that still authenticate: not revoked, not expired (the owner's ban is checked on use)."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class ApiKey(models.Model):
    """A personal API key (accounts.api_keys): a long-lived bearer credential limited to its scopes.

    Only a SHA-256 hash of the secret is kept; the secret itself is shown once, when the key is made.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read: polls, results, votes, notifications")
        VOTE = "vote", _("Vote: vote, like, suggest options, answer")
        MANAGE_POLLS = "manage_polls", _("Manage polls: create, edit, close, delete, invite")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    # Space-separated scope codes, as OAuth writes them: "read vote".
    scopes = models.CharField(_("scopes"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, help_text=_("The start of the key, to recognise it by."))
    # The secret is 256 random bits, so a fast hash is enough: nothing to brute-force as with a password.
    hashed_secret = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, db_index=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class TwoFactor(models.Model):
    """An account's authenticator app (TOTP, accounts.two_factor): the row exists once its first code was confirmed."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="two_factor")
    secret = models.CharField(max_length=64)  # base32; kept readable, as every code is computed from it
    # The 30-second step of the last code taken: that code and older ones never work again (no replays).
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("two-factor authentication")
        verbose_name_plural = _("two-factor authentication")

    def __str__(self):
        return f"two-factor for {self.user}"


class RecoveryCode(models.Model):
    """A single-use code for signing in without the authenticator app; only its SHA-256 is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "used_at"], name="recovery_code_unused_idx")]

    def __str__(self):
        return f"recovery code of {self.user}"
