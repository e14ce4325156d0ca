import logging
import time

from django.core.management.base import BaseCommand
from django.db import connections

from quickpoll.outages import DATABASE_DOWN
from webhooks.delivery import deliver_due, forget_old_deliveries

logger = logging.getLogger(__name__)

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
            try:
                attempts = deliver_due()
                if last_forgotten is None or time.monotonic() - last_forgotten >= FORGET_EVERY:
                    forget_old_deliveries()
                    last_forgotten = time.monotonic()
            except DATABASE_DOWN as exc:
                if once:
                    raise
                # The messages wait in the outbox; the worker waits for the database, as the servers beside it do.
                logger.warning("webhook worker: database unavailable (%s); trying again", exc)
                connections.close_all()
                time.sleep(every)
                continue
            if attempts or once:
                self.stdout.write(f"Made {attempts} webhook delivery attempt(s).")
            if once:
                return
            if not attempts:
                time.sleep(every)
