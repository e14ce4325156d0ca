"""Moderators see suggested options (write-ins) in the admin and accept or reject them there."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = ["view_writein", "change_writein"]


def grant(apps, schema_editor):
    # Permissions are normally created after migrate; the group needs these now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="moderators")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="polls", codename__in=PERMISSIONS))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="moderators").first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="polls", codename__in=PERMISSIONS))


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0009_voting_methods"),
        ("accounts", "0009_write_ins"),
    ]

    operations = [
        migrations.AlterModelOptions(name="writein", options={"ordering": ["created_at"], "verbose_name": "write-in"}),
        migrations.RunPython(grant, revoke),
    ]
