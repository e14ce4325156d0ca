"""HTML forms for accounts. The rules (unique names, password strength) live in accounts.services."""

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from accounts.avatars import check_avatar
from accounts.mail import NOTIFICATION_KINDS, NOTIFICATION_LABELS
from accounts.models import ApiKey, User
from quickpoll.errors import RateLimited
from quickpoll.forms import ServiceErrorsMixin
from quickpoll.time_zones import known_zone, selectable_zone_names


def too_many_attempts(refusal: RateLimited) -> str:
    """What a login or sign-up form says when a budget is spent (quickpoll.ratelimits)."""
    return f"Too many attempts. Try again in {refusal.retry_after} seconds."


class RegisterForm(ServiceErrorsMixin, forms.Form):
    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()], label=_("Username"))
    email = forms.EmailField(max_length=254, label=_("Email"))
    password = forms.CharField(
        strip=False, label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        strip=False, label=_("Password, again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    # Filled by the page script with the browser's zone; empty without it (the account then has none).
    time_zone = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput(attrs={"data-browser-zone": ""}))

    def clean_time_zone(self):
        # The browser's guess, not the person's choice: one QuickPoll does not know is dropped, not refused.
        sent = self.cleaned_data.get("time_zone", "")
        return sent if known_zone(sent) else ""

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class LoginForm(forms.Form):
    username = forms.CharField(max_length=254, label=_("Username or email"))
    password = forms.CharField(
        strip=False, label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class ProfileForm(forms.Form):
    """Shape only: a taken email address is refused by accounts.services.update_profile."""

    display_name = forms.CharField(max_length=80, required=False, label=_("Display name"))
    bio = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Bio"))
    email = forms.EmailField(max_length=254, label=_("Email"))
    avatar = forms.ImageField(required=False, widget=forms.FileInput(attrs={"accept": "image/*"}), label=_("Avatar"))
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Times on QuickPoll's pages are shown in it. Not set: your browser's zone, or UTC without JavaScript."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [("", _("Not set"))] + [(name, name) for name in selectable_zone_names()]

    @classmethod
    def initial_for(cls, user: User) -> dict:
        return {"display_name": user.display_name, "bio": user.bio, "email": user.email, "time_zone": user.time_zone}

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar:
            check_avatar(avatar)
        return avatar


class PasswordForm(ServiceErrorsMixin, forms.Form):
    current_password = forms.CharField(
        strip=False, label=_("Current password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(
        strip=False, label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        strip=False,
        label=_("Your password, to confirm"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ApiKeyForm(forms.Form):
    """A new personal API key (accounts.api_keys.create_api_key); the expiry is a choice of lengths, as keys usually are."""

    EXPIRY_DAYS = {"30": 30, "90": 90, "365": 365, "never": None}

    name = forms.CharField(
        max_length=100, label=_("Name"), help_text=_("What will use it, so you know it again: “Spreadsheet sync”.")
    )
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiKey.Scope.READ],
        label=_("Scopes"),
        error_messages={"required": _("Choose at least one scope.")},
    )
    expires = forms.ChoiceField(
        label=_("Expires"),
        choices=[("30", _("In 30 days")), ("90", _("In 90 days")), ("365", _("In a year")), ("never", _("Never"))],
        initial="90",
    )

    def expires_at(self) -> datetime | None:
        days = self.EXPIRY_DAYS[self.cleaned_data["expires"]]
        return None if days is None else timezone.now() + timedelta(days=days)


def _code_field() -> forms.CharField:
    return forms.CharField(
        max_length=32,
        label=_("Code"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off", "spellcheck": "false"}),
    )


class TwoFactorCodeForm(forms.Form):
    """The sign-in's second step: the app's code or a recovery code, in one box."""

    code = _code_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _("The 6 digits your authenticator app shows now, or one of your recovery codes.")


class TwoFactorSetupForm(forms.Form):
    code = _code_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _("The 6 digits the app shows after adding QuickPoll.")
        self.fields["code"].widget.attrs["inputmode"] = "numeric"


class TwoFactorDisableForm(forms.Form):
    password = forms.CharField(
        strip=False, label=_("Your password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    code = _code_field()


class RecoveryCodesForm(forms.Form):
    password = forms.CharField(
        strip=False, label=_("Your password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label=_("Your account's email address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class NewPasswordForm(ServiceErrorsMixin, forms.Form):
    """Shape only: password strength is accounts.services' rule (reset_password)."""

    new_password = forms.CharField(
        label=_("New password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password_again = forms.CharField(
        label=_("New password, again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two passwords differ."))
        return data


class EmailPreferencesForm(forms.Form):
    """One box per kind of notification mail (accounts.mail.NOTIFICATION_KINDS), all off until ticked."""

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        for kind, label in NOTIFICATION_LABELS.items():
            self.fields[kind] = forms.BooleanField(
                label=label, required=False, initial=getattr(user, NOTIFICATION_KINDS[kind])
            )
