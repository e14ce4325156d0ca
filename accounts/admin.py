from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from accounts.models import Notification, User
from accounts.services import deactivate_users, delete_account, revoke_credentials


class QuickPollUserCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]


class QuickPollUserChangeForm(UserChangeForm):
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

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            revoke_credentials(user_ids=[obj.pk])  # banned here: their tokens and open sockets end too

    def delete_model(self, request, obj):
        delete_account(user=obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            delete_account(user=user)

    @admin.action(description="Deactivate selected users (they can no longer log in)", permissions=["change"])
    def deactivate(self, request, queryset):
        # Never lock out the moderator doing the clicking, nor let a moderator lock out a superuser.
        queryset = queryset.exclude(pk=request.user.pk)
        if not request.user.is_superuser:
            queryset = queryset.exclude(is_superuser=True)
        count = deactivate_users(users=queryset)
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
