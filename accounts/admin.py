from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from accounts import audit
from accounts.models import AuditEntry, Notification, User
from accounts.services import delete_account


class QuickPollUserCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]


class QuickPollUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = QuickPollUserChangeForm
    add_form = QuickPollUserCreationForm
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

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
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
        # Never lock out the moderator doing the clicking, nor let a moderator lock out a superuser.
        queryset = queryset.exclude(pk=request.user.pk)
        if not request.user.is_superuser:
            queryset = queryset.exclude(is_superuser=True)
        deactivated = list(queryset.filter(is_active=True))
        count = User.objects.filter(pk__in=[user.pk for user in deactivated]).update(is_active=False)
        for user in deactivated:
            audit.record(actor=request.user, action=audit.Action.USERS_DEACTIVATED, target=user)
        self.message_user(request, f"Deactivated {count} user(s).")


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
