import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long and unusual passphrase"


@pytest.fixture
def superuser_variables(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    return monkeypatch


def test_creates_the_superuser_from_the_environment(superuser_variables, capsys):
    call_command("ensure_superuser")

    admin = User.objects.get(username="admin")
    assert (admin.is_superuser, admin.is_staff, admin.email) == (True, True, "admin@example.com")
    assert admin.check_password(PASSWORD)
    assert "Superuser admin created" in capsys.readouterr().out


def test_a_second_run_leaves_the_account_as_it_is(superuser_variables, capsys):
    call_command("ensure_superuser")
    admin = User.objects.get(username="admin")
    admin.set_password("changed since by its owner")
    admin.save()

    superuser_variables.setenv("DJANGO_SUPERUSER_PASSWORD", "another long passphrase")
    call_command("ensure_superuser")

    assert User.objects.count() == 1
    admin.refresh_from_db()
    assert admin.check_password("changed since by its owner")
    assert "An account named admin exists: left as it is." in capsys.readouterr().out


def test_an_account_of_that_name_in_another_case_counts_as_existing(superuser_variables):
    UserFactory(username="Admin")

    call_command("ensure_superuser")

    assert list(User.objects.values_list("username", "is_superuser")) == [("Admin", False)]


def test_does_nothing_and_says_so_when_the_variables_are_unset(monkeypatch, capsys):
    for name in ("DJANGO_SUPERUSER_USERNAME", "DJANGO_SUPERUSER_EMAIL", "DJANGO_SUPERUSER_PASSWORD"):
        monkeypatch.delenv(name, raising=False)

    call_command("ensure_superuser")

    assert not User.objects.exists()
    assert "not set: no superuser created" in capsys.readouterr().out


def test_refuses_a_short_password_with_the_reason(superuser_variables):
    superuser_variables.setenv("DJANGO_SUPERUSER_PASSWORD", "x7q")

    with pytest.raises(CommandError, match="password: This password is too short"):
        call_command("ensure_superuser")

    assert not User.objects.exists()


def test_names_the_variables_missing_when_only_some_are_set(superuser_variables):
    superuser_variables.delenv("DJANGO_SUPERUSER_PASSWORD")

    with pytest.raises(CommandError, match="Set DJANGO_SUPERUSER_PASSWORD too"):
        call_command("ensure_superuser")

    assert not User.objects.exists()


def test_refuses_an_email_address_another_account_holds(superuser_variables):
    UserFactory(username="someone", email="admin@example.com")

    with pytest.raises(CommandError, match="An account with that email address already exists"):
        call_command("ensure_superuser")

    assert not User.objects.filter(username="admin").exists()
