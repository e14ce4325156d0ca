from django.apps import AppConfig
from django.conf import settings


class PollsConfig(AppConfig):
    name = "polls"

    def ready(self):
        from accounts.personal_data import personal_data_section
        from accounts.services import before_account_deletion
        from polls.personal_data import SECTIONS
        from polls.services import take_back_account

        before_account_deletion(take_back_account)
        for name, collect in SECTIONS.items():
            personal_data_section(name, collect)
        if settings.BACKGROUND_THREADS:
            from polls.viewcounts import start_flusher

            start_flusher()
