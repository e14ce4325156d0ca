import time

from django.core.management.base import BaseCommand

from polls.mails import send_weekly_digests
from polls.retention import clear_expired_personal_data
from polls.secret_ballots import reseal_pending
from polls.services import close_expired_polls
from quickpoll.idempotency import purge_expired

RETENTION_EVERY = 3600  # seconds: data is kept for days, so clearing it hourly is punctual enough
DIGEST_EVERY = 3600  # seconds: a weekly digest an hour late is on time


class Command(BaseCommand):
    help = (
        "Close polls whose closing time has passed, telling their authors and live subscribers; "
        "reseal secret polls' new ballots; forget the responses kept for Idempotency-Key retries once their time is up; "
        "as a clock process (--every), also cut back voters' addresses and browsers once kept long enough, and send "
        "the weekly digests that are due."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=int, metavar="SECONDS", help="Keep running, checking every SECONDS (a clock process)."
        )

    def handle(self, *args, every=None, **options):
        last_cleared = last_digests = None
        while True:
            closed = close_expired_polls()
            if closed or every is None:
                self.stdout.write(f"Closed {closed} expired poll(s).")
            # After closing, so a poll's last ballots are resealed in the same round.
            resealed = reseal_pending()
            if resealed or every is None:
                self.stdout.write(f"Resealed the ballots of {resealed} secret poll(s).")
            purged = purge_expired()
            if purged or every is None:
                self.stdout.write(f"Forgot {purged} response(s) kept for Idempotency-Key retries.")
            if every is None:
                return
            if last_cleared is None or time.monotonic() - last_cleared >= RETENTION_EVERY:
                cleared = clear_expired_personal_data()
                last_cleared = time.monotonic()
                if cleared:
                    self.stdout.write(f"Cut back voters' addresses and browsers on {cleared} poll(s).")
            if last_digests is None or time.monotonic() - last_digests >= DIGEST_EVERY:
                digests = send_weekly_digests()
                last_digests = time.monotonic()
                if digests:
                    self.stdout.write(f"Sent {digests} weekly digest(s).")
            time.sleep(every)
