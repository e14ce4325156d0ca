from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import make_moderator


class Command(BaseCommand):
    help = "Let an existing account use the moderators' admin at /admin/."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No account named {username!r}; create it first (manage.py createsuperuser or register).")
        make_moderator(user=user)
        self.stdout.write(self.style.SUCCESS(f"{user.username} is now a moderator."))
