import pytest
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_factory_saves_a_usable_password():
    user = UserFactory()

    user.refresh_from_db()

    assert user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"username": "Alice"}, {"username": "alice"}),
        ({"email": "A@x.com"}, {"email": "a@X.com"}),
    ],
)
def test_usernames_and_emails_are_unique_whatever_their_case(first, second):
    UserFactory(**first)

    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(**second)


def test_natural_key_lookup_ignores_case():
    alice = UserFactory(username="Alice")

    assert User.objects.get_by_natural_key("ALICE") == alice


@pytest.fixture
def alice():
    return UserFactory(username="Alice", email="Alice@Example.com")


@pytest.mark.parametrize(
    "login", ["Alice", "alice", "ALICE", "Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM"]
)
def test_login_accepts_username_or_email_in_any_case(alice, login):
    assert authenticate(username=login, password=PASSWORD) == alice


@pytest.mark.parametrize("login", ["alice", "alice@example.com"])
def test_login_rejects_a_wrong_password(alice, login):
    assert authenticate(username=login, password="not-the-password") is None


def test_login_rejects_unknown_accounts(alice):
    assert authenticate(username="bob", password=PASSWORD) is None
    assert authenticate(username="bob@example.com", password=PASSWORD) is None


def test_login_rejects_inactive_accounts(alice):
    alice.is_active = False
    alice.save()

    assert authenticate(username="alice", password=PASSWORD) is None
    assert authenticate(username="alice@example.com", password=PASSWORD) is None


def test_login_needs_both_username_and_password(alice):
    assert authenticate(username="alice") is None
    assert authenticate(password=PASSWORD) is None


def test_login_by_a_username_that_contains_an_at_sign():
    User._meta.get_field("username").run_validators("ann@home")  # a valid username
    ann = UserFactory(username="ann@home", email="ann@example.com")

    assert authenticate(username="ann@home", password=PASSWORD) == ann


def test_a_username_match_wins_over_an_email_match():
    named = UserFactory(username="x@example.com", email="named@example.com")
    UserFactory(username="addressed", email="x@example.com")

    assert authenticate(username="X@example.com", password=PASSWORD) == named
