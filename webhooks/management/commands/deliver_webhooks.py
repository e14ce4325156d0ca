import time

from django.core.management.base import BaseCommand

from webhooks.delivery import deliver_due, forget_old_deliveries

FORGET_EVERY = 3600  # seconds: the log is kept for days, so trimming it hourly is punctual enough


class Command(BaseCommand):
    help = (
        "Send the webhook messages that are due (signed, retried with growing waits), as a process of its own; "
        "--once sends what is due now and stops."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One pass over what is due, then stop.")
        parser.add_argument(
            "--every", type=float, default=1.0, metavar="SECONDS", help="Pause between passes that found nothing."
        )

    def handle(self, *args, once=False, every=1.0, **options):
        last_forgotten = None
        while True:
            attempts = deliver_due()
            if attempts or once:
                self.stdout.write(f"Made {attempts} webhook delivery attempt(s).")
            if once:
                return
            if last_forgotten is None or time.monotonic() - last_forgotten >= FORGET_EVERY:
                forget_old_deliveries()
                last_forgotten = time.monotonic()
            if not attempts:
                time.sleep(every)
