from django.core.management.base import BaseCommand, CommandError

from accounts import errors
from accounts.models import User
from accounts.services import register_superuser
from quickpoll.env import env_str

VARIABLES = ("DJANGO_SUPERUSER_USERNAME", "DJANGO_SUPERUSER_EMAIL", "DJANGO_SUPERUSER_PASSWORD")


class Command(BaseCommand):
    help = (
        "Create the superuser named by DJANGO_SUPERUSER_USERNAME, _EMAIL and _PASSWORD unless an account of that "
        "name exists; with the variables unset, do nothing. Safe to run on every release."
    )

    def handle(self, *args, **options):
        username, email, password = (env_str(name) for name in VARIABLES)
        if not (username or email or password):
            self.stdout.write("DJANGO_SUPERUSER_USERNAME, _EMAIL and _PASSWORD are not set: no superuser created.")
            return
        missing = [name for name, value in zip(VARIABLES, (username, email, password)) if not value]
        if missing:
            raise CommandError(f"Set {' and '.join(missing)} too, or none of the three.")
        if User.objects.filter(username__iexact=username).exists():
            self.stdout.write(f"An account named {username} exists: left as it is.")
            return
        try:
            user = register_superuser(username=username, email=email, password=password)
        except errors.UsernameTaken:
            # Another run (a second migrate container) created it a moment ago.
            self.stdout.write(f"An account named {username} exists: left as it is.")
            return
        except errors.InvalidAccount as exc:
            problems = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.fields.items())
            raise CommandError(f"Superuser {username} not created. {problems}") from None
        except errors.AccountError as exc:
            raise CommandError(f"Superuser {username} not created. {exc.message}") from None
        self.stdout.write(self.style.SUCCESS(f"Superuser {user.username} created; log in at /admin/."))
