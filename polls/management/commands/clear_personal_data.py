from django.conf import settings
from django.core.management.base import BaseCommand

from polls.retention import clear_expired_personal_data


class Command(BaseCommand):
    help = (
        "Cut back voters' addresses (to their network, or dropped) and browsers on polls closed for more than "
        "PERSONAL_DATA_RETENTION_DAYS. The clock process does it hourly; safe to repeat."
    )

    def handle(self, *args, **options):
        cleared = clear_expired_personal_data()
        days = settings.PERSONAL_DATA_RETENTION_DAYS
        self.stdout.write(f"Cut back voters' addresses and browsers on {cleared} poll(s) closed over {days} day(s) ago.")
