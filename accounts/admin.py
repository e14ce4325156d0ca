from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, ngettext
from django.core.exceptions import PermissionDenied, ValidationError
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from accounts import audit
from accounts.errors import InvalidAccount, NameRefused
from accounts.api_keys import revoke_api_keys
from accounts.models import ApiKey, AuditEntry, Notification, User
from accounts.permissions import may_change_account
from accounts.services import check_display_name, check_username, deactivate_users, delete_account, revoke_credentials


class AccountNamesMixin:
    """The admin names accounts under the same rules as sign-up and settings (accounts.services)."""

    def _existing(self) -> User | None:
        return None if self.instance._state.adding else self.instance

    def clean_username(self):
        try:
            return check_username(self.cleaned_data["username"], exclude=self._existing())
        except (NameRefused, InvalidAccount) as exc:
            raise ValidationError(exc.fields["username"]) from None

    def clean_display_name(self):
        display_name = self.cleaned_data.get("display_name", "")
        try:
            check_display_name(display_name, user=self._existing())
        except NameRefused as exc:
            raise ValidationError(exc.message, code=exc.code) from None
        return display_name


class QuickPollUserCreationForm(AccountNamesMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]


class QuickPollUserChangeForm(AccountNamesMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


class QuickPollAdminPasswordChangeForm(AdminPasswordChangeForm):
    def save(self, commit=True):
        user = super().save(commit=commit)
        revoke_credentials(user_ids=[user.pk])  # the old password's sessions, tokens and sockets end
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = QuickPollUserChangeForm
    add_form = QuickPollUserCreationForm
    change_password_form = QuickPollAdminPasswordChangeForm
    list_display = ["username", "email", "display_name", "is_active", "is_verified", "is_staff", "created_at"]
    list_filter = ["is_active", "is_verified", "is_staff", "is_superuser", "groups"]
    search_fields = ["username", "email", "display_name"]
    ordering = ["-created_at"]
    readonly_fields = ["created_at", "updated_at", "last_login"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Profile", {"fields": ["email", "is_verified", "display_name", "bio", "avatar"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "created_at", "updated_at"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "email", "password1", "password2"]}),
    ]
    actions = ["deactivate"]

    def get_readonly_fields(self, request, obj=None):
        # Moderators may change users, but only superusers hand out powers.
        if request.user.is_superuser:
            return self.readonly_fields
        return [*self.readonly_fields, "is_staff", "is_superuser", "groups", "user_permissions"]

    def has_change_permission(self, request, obj=None):
        # A moderator sees a staff or superuser account read-only; the form refuses a POST with 403.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_change_account(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_change_account(request.user, obj))

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            revoke_credentials(user_ids=[obj.pk])  # banned here: their tokens and open sockets end too
        if change and form.changed_data:
            fields = sorted(set(form.changed_data) - {"password"})
            audit.record(actor=request.user, action=audit.Action.USER_CHANGED, target=obj, details={"fields": fields})

    def delete_model(self, request, obj):
        audit.record(actor=request.user, action=audit.Action.USER_DELETED, target=obj)
        delete_account(user=obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            self.delete_model(request, user)

    @admin.action(description="Deactivate selected users (they can no longer log in)", permissions=["change"])
    def deactivate(self, request, queryset):
        # Never lock out the one doing the clicking, nor let a moderator lock out staff or a superuser.
        chosen = [user for user in queryset.exclude(pk=request.user.pk) if may_change_account(request.user, user)]
        skipped = queryset.count() - len(chosen)
        deactivated = [user for user in chosen if user.is_active]
        count = deactivate_users(users=User.objects.filter(pk__in=[user.pk for user in deactivated]))
        for user in deactivated:
            audit.record(actor=request.user, action=audit.Action.USERS_DEACTIVATED, target=user)
        self.message_user(request, f"Deactivated {count} user(s).")
        if skipped:
            self.message_user(request, f"Left {skipped} user(s) alone: yourself, or staff only superusers may change.", messages.WARNING)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "poll", "actor", "created_at", "read_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["recipient__username", "recipient__email", "poll__title"]
    list_select_related = ["recipient", "poll", "actor"]
    readonly_fields = ["recipient", "kind", "poll", "actor", "payload", "read_at", "created_at"]

    def has_add_permission(self, request):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the services write and nobody edits: no add, change or delete, even for superusers."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The moderation audit log: read by moderators, written only by the services, changed or deleted by nobody."""

    list_display = ["created_at", "actor_label", "action", "target_kind", "target_label", "reason"]
    list_filter = ["action", "target_kind", "created_at"]
    search_fields = ["actor_label", "target_label", "target_id", "reason"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditEntry._meta.fields]


class ApiKeyStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("usable", _("Usable")), ("expired", _("Expired")), ("revoked", _("Revoked"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "usable":
            return queryset.usable(now=now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class ApiKeyScopeFilter(admin.SimpleListFilter):
    title = _("scope")
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return ApiKey.Scope.choices

    def queryset(self, request, queryset):
        if self.value() in ApiKey.Scope.values:
            # Scopes are space-separated words, and no scope's name is inside another's.
            return queryset.filter(scopes__contains=self.value())
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Users' API keys for moderators: who holds which, what they may do, when last used. Never a secret or its hash."""

    list_display = ["name", "user", "prefix", "scopes", "created_at", "last_used_at", "last_used_ip", "expires_at", "revoked_at"]
    list_filter = [ApiKeyStateFilter, ApiKeyScopeFilter, "created_at", "last_used_at"]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    list_select_related = ["user"]
    fields = ["user", "name", "scopes", "prefix", "created_at", "expires_at", "last_used_at", "last_used_ip", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # keys are made by their owners, who alone ever see the secret

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted: the row says when and that it was used

    @admin.action(description=_("Revoke selected API keys (they stop working at once)"), permissions=["change"])
    def revoke(self, request, queryset):
        revoking = list(queryset.filter(revoked_at__isnull=True).select_related("user"))
        count = revoke_api_keys(keys=ApiKey.objects.filter(pk__in=[key.pk for key in revoking]))
        for key in revoking:
            audit.record(actor=request.user, action=audit.Action.API_KEYS_REVOKED, target=key.user, details={"key": key.prefix, "name": key.name})
        self.message_user(request, ngettext("Revoked %d API key.", "Revoked %d API keys.", count) % count)
