"""Domain errors raised by accounts.services."""

from django.utils.translation import gettext, gettext_lazy as _

from quickpoll.errors import DomainError


class AccountError(DomainError):
    pass


class NameRefused(AccountError):
    """A username or display name that is, or would pass for, another account's; `field` says which."""

    status = 409
    field = "username"

    @property
    def fields(self) -> dict[str, list[str]]:
        return {self.field: [self.message]}


class UsernameTaken(NameRefused):
    code = "username_taken"
    message = _("That username is taken.")


class ConfusableUsername(NameRefused):
    code = "confusable_username"
    message = _("That username reads like another account's; pick one that looks different.")


class ConfusableDisplayName(NameRefused):
    code = "confusable_display_name"
    field = "display_name"
    message = _("That display name reads like another account's username.")


class EmailTaken(AccountError):
    code = "email_taken"
    status = 409
    message = _("An account with that email address already exists.")


class InvalidCredentials(AccountError):
    code = "invalid_credentials"
    status = 401
    message = _("The username or password is not right.")


class WrongPassword(AccountError):
    code = "wrong_password"
    status = 400
    message = _("The current password is not right.")


class InvalidAccount(AccountError):
    """Account details break a rule; `fields` says which field and why."""

    message = _("The account details are not valid.")

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__()
        self.fields = fields


class TooManyApiKeys(AccountError):
    code = "too_many_api_keys"
    status = 409
    message = "You have as many API keys as an account may hold; revoke one you no longer use."


class InvalidTwoFactorCode(AccountError):
    """Neither the authenticator app's current code nor an unused recovery code (or a code already taken)."""

    code = "invalid_two_factor_code"
    status = 401
    message = _("That code is not right, or it was already used. Enter the current code from your app.")


class TwoFactorChallengeInvalid(AccountError):
    """The sign-in's first step (the password) is too old, forged, or for another account."""

    code = "two_factor_challenge_invalid"
    status = 401
    message = _("That sign-in took too long or is not valid. Log in with your password again.")


class TwoFactorAlreadyOn(AccountError):
    code = "two_factor_already_enabled"
    status = 409
    message = _("Two-factor authentication is already on for this account.")


class InvalidToken(AccountError):
    """A mailed link's token that is forged, used, outdated by a password change, or (`expired`) too old."""

    code = "invalid_token"
    status = 400

    def __init__(self, *, expired: bool = False):
        if expired:
            self.code = "token_expired"
            super().__init__(gettext("This link has expired. Ask for a new one."))
        else:
            super().__init__(gettext("This link is not valid any more: it was used, replaced, or the password changed."))


class EmailNotVerified(AccountError):
    code = "email_not_verified"
    status = 403

    def __init__(self):
        super().__init__(gettext("Confirm your email address first: follow the link we mailed you."))


class NothingToConfirm(AccountError):
    code = "already_verified"
    status = 409

    def __init__(self):
        super().__init__(gettext("Your address is confirmed already."))
