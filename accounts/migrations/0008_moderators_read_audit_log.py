"""Moderators read the audit log and the voided ballots in the admin; nobody writes them there."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = {"accounts": ["view_auditentry"], "polls": ["view_voidedballot"]}


def grant(apps, schema_editor):
    # Permissions are normally created after migrate; the group needs these now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="moderators")
    for app_label, codenames in PERMISSIONS.items():
        for codename in codenames:
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="moderators").first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(codename__in=[code for codes in PERMISSIONS.values() for code in codes])
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_audit_log"),
        ("polls", "0006_moderation_hold"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
