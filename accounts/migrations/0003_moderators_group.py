"""The `moderators` group: exactly what moderating QuickPoll needs, nothing more.

Moderators (staff accounts in this group) may read everything in the admin,
close, unlist, retitle or delete polls (with everything hanging off them),
remove offensive options, votes and likes (the admin moves the counters through polls.services),
handle reports and deactivate users. They cannot create polls, votes or users,
grant permissions, set passwords, or delete accounts.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATOR_PERMISSIONS = {
    "accounts": ["view_user", "change_user", "view_notification", "delete_notification"],
    "polls": [
        "view_poll",
        "change_poll",
        "delete_poll",
        "view_option",
        "delete_option",
        "view_ballot",
        "delete_ballot",
        "view_vote",
        "delete_vote",
        "view_like",
        "delete_like",
        "view_report",
        "change_report",
        "delete_report",
    ],
}


def create_moderators_group(apps, schema_editor):
    # Permissions are normally created after migrate; this group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="moderators")
    permissions = [
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codenames in MODERATOR_PERMISSIONS.items()
        for codename in codenames
    ]
    group.permissions.set(permissions)


def remove_moderators_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="moderators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        ("polls", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_moderators_group, remove_moderators_group)]
