from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self):
        from accounts.personal_data import personal_data_section
        from polls import announce
        from webhooks import outbox
        from webhooks.personal_data import webhook_endpoints

        # polls tells its changes inside their transaction; the outbox rows go in with them.
        announce.listen_in_transaction(outbox)
        personal_data_section("webhook_endpoints", webhook_endpoints)
