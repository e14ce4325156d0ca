from django.apps import AppConfig
from django.conf import settings


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self):
        from accounts import services as accounts_services
        from polls import announce
        from realtime import broadcast_loop, events

        # polls announces what happened; the broadcasts to live pages are realtime's to send.
        announce.listen(events)
        # accounts announces revoked credentials; ending the sockets they opened is realtime's to do.
        accounts_services.on_credentials_revoked(events.publish_credentials_revoked)
        if settings.BACKGROUND_THREADS:
            broadcast_loop.start()
