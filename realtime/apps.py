from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self):
        from polls import announce
        from realtime import events

        # polls announces what happened; the broadcasts to live pages are realtime's to send.
        announce.listen(events)
