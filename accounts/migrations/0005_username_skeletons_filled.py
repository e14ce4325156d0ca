from django.db import migrations

from accounts.usernames import username_skeleton


def fill_skeletons(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for user in User.objects.only("pk", "username").iterator():
        User.objects.filter(pk=user.pk).update(username_skeleton=username_skeleton(user.username))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_username_skeletons")]

    operations = [migrations.RunPython(fill_skeletons, migrations.RunPython.noop)]
