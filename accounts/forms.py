"""HTML forms for accounts. The rules (unique names, password strength) live in accounts.services."""

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from accounts.avatars import check_avatar
from accounts.models import User
from quickpoll.errors import RateLimited
from quickpoll.forms import ServiceErrorsMixin


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

    @classmethod
    def initial_for(cls, user: User) -> dict:
        return {"display_name": user.display_name, "bio": user.bio, "email": user.email}

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
