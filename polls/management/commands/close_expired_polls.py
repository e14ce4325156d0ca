import time

from django.core.management.base import BaseCommand

from polls.secret_ballots import reseal_pending
from polls.services import close_expired_polls


class Command(BaseCommand):
    help = (
        "Close polls whose closing time has passed, telling their authors and live subscribers; "
        "reseal secret polls' new ballots."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=int, metavar="SECONDS", help="Keep running, checking every SECONDS (a clock process)."
        )

    def handle(self, *args, every=None, **options):
        while True:
            closed = close_expired_polls()
            if closed or every is None:
                self.stdout.write(f"Closed {closed} expired poll(s).")
            # After closing, so a poll's last ballots are resealed in the same round.
            resealed = reseal_pending()
            if resealed or every is None:
                self.stdout.write(f"Resealed the ballots of {resealed} secret poll(s).")
            if every is None:
                return
            time.sleep(every)
