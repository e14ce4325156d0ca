from django.apps import AppConfig


class PollsConfig(AppConfig):
    name = "polls"

    def ready(self):
        from accounts.services import before_account_deletion
        from polls.services import take_back_account

        before_account_deletion(take_back_account)
