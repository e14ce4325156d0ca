"""Compile locale/<language>/LC_MESSAGES/*.po into .mo with Babel, so a machine without gettext speaks German."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the translations (locale/*/LC_MESSAGES/*.po) into .mo files; up-to-date ones are left alone."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Compile every file, even an up-to-date one.")

    def handle(self, *args, force=False, verbosity=1, **options):
        for locale_path in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_path).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                with po_path.open("rb") as po_file:
                    catalog = read_po(po_file, locale=po_path.parent.parent.name)
                # Fuzzy entries stay out (Babel's default, like msgfmt): the test refuses them anyway.
                with mo_path.open("wb") as mo_file:
                    write_mo(mo_file, catalog)
                if verbosity:
                    self.stdout.write(f"compiled {mo_path}")
