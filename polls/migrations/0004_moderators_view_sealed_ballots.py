"""Moderators read closed secret polls' sealed ballots in the admin (receipt and options), as anyone may list them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    # Permissions are normally created after migrate; the group needs this one now.
    app_config = apps.get_app_config("polls")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(content_type__app_label="polls", codename="view_sealedballot")
    for group in Group.objects.filter(name="moderators"):
        group.permissions.add(view)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name="moderators"):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="polls", codename="view_sealedballot"))


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0003_secret_ballots"),
        ("accounts", "0003_moderators_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
