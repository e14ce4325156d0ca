from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from accounts.usernames import canonical_username
from quickpoll.ratelimits import spend_login_budget


def find_account(identifier: str):
    """The account a login names, by username or email; usernames may contain "@", so they win."""
    users = get_user_model()._default_manager
    identifier = canonical_username(identifier)  # ａｌｉｃｅ logs in as alice
    return users.filter(username__iexact=identifier).first() or users.filter(email__iexact=identifier).first()


def login_account_key(identifier: str, user) -> str:
    """What login attempts on one account are counted under, whether it is named by username or email.

    `user` is find_account(identifier); a name no account has is counted as itself, so guessing at
    it is limited too.
    """
    return str(user.pk) if user is not None else identifier.casefold()


class UsernameOrEmailBackend(ModelBackend):
    """Log in with a username or an email address, either without regard to case.

    Every password check (the API, the login page, the admin's login) comes through here, so each
    spends the account's one login budget; a spent budget raises quickpoll.errors.RateLimited.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = find_account(username)
        spend_login_budget(request, login_account_key(username, user))
        if user is None:
            # Hash anyway, so the response time does not reveal which accounts exist.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
