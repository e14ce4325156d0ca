from django.apps import AppConfig
from django.conf import settings


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self):
        from polls import announce
        from realtime import broadcast_loop, events

        # polls announces what happened; the broadcasts to live pages are realtime's to send.
        announce.listen(events)
        if settings.BACKGROUND_THREADS:
            broadcast_loop.start()
