"""Domain errors raised by accounts.services."""

from quickpoll.errors import DomainError


class AccountError(DomainError):
    pass


class UsernameTaken(AccountError):
    code = "username_taken"
    status = 409
    message = "That username is taken."


class EmailTaken(AccountError):
    code = "email_taken"
    status = 409
    message = "An account with that email address already exists."


class InvalidCredentials(AccountError):
    code = "invalid_credentials"
    status = 401
    message = "The username or password is not right."


class WrongPassword(AccountError):
    code = "wrong_password"
    status = 400
    message = "The current password is not right."


class InvalidAccount(AccountError):
    """Account details break a rule; `fields` says which field and why."""

    message = "The account details are not valid."

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__()
        self.fields = fields
