import importlib

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.services import MODERATORS_GROUP

pytestmark = pytest.mark.django_db

MODERATOR_PERMISSIONS = importlib.import_module("accounts.migrations.0003_moderators_group").MODERATOR_PERMISSIONS
AUDIT_PERMISSIONS = importlib.import_module("accounts.migrations.0008_moderators_read_audit_log").PERMISSIONS
WRITE_IN_PERMISSIONS = importlib.import_module("polls.migrations.0010_moderators_handle_write_ins").PERMISSIONS
API_KEY_PERMISSIONS = importlib.import_module("accounts.migrations.0011_api_keys").PERMISSIONS
WEBHOOK_PERMISSIONS = importlib.import_module("webhooks.migrations.0001_initial").MODERATOR_PERMISSIONS


def test_models_and_migrations_agree():
    # Exits with status 1 (SystemExit) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_moderators_group_has_exactly_the_listed_permissions():
    group = Group.objects.get(name=MODERATORS_GROUP)

    granted = set(group.permissions.values_list("content_type__app_label", "codename"))

    listed = [
        *MODERATOR_PERMISSIONS.items(),
        *AUDIT_PERMISSIONS.items(),
        ("polls", WRITE_IN_PERMISSIONS),
        ("accounts", API_KEY_PERMISSIONS),
        ("webhooks", WEBHOOK_PERMISSIONS),
    ]
    assert granted == {(app, codename) for app, codenames in listed for codename in codenames}


def test_a_moderator_gets_staff_status_and_the_groups_permissions(moderator):
    moderator.refresh_from_db()

    assert moderator.is_staff and not moderator.is_superuser
    assert list(moderator.groups.values_list("name", flat=True)) == [MODERATORS_GROUP]
    assert moderator.has_perms(["polls.delete_vote", "polls.change_report", "accounts.change_user"])
    assert not moderator.has_perm("polls.add_poll")
    assert not moderator.has_perm("accounts.delete_user")
