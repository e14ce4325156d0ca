"""Domain errors raised by accounts.services."""

from django.utils.translation import gettext_lazy as _

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
