"""Who may change whose account, for every path that changes one (the admin's form, actions and deletes)."""

from accounts.models import User


def may_change_account(actor: User, account: User) -> bool:
    """Superusers may change anyone; moderators only accounts without powers, never staff or superusers."""
    return actor.is_superuser or not (account.is_staff or account.is_superuser)
