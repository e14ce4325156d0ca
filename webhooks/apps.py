from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"

    def ready(self):
        from polls import announce
        from webhooks import outbox

        # polls tells its changes inside their transaction; the outbox rows go in with them.
        announce.listen_in_transaction(outbox)
