from django.apps import AppConfig
from django.conf import settings


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self):
        from accounts import notifications as accounts_notifications
        from accounts import services as accounts_services
        from polls import announce
        from realtime import broadcast_loop, events

        # polls announces what happened; the broadcasts to live pages are realtime's to send.
        announce.listen(events)
        # accounts announces revoked credentials; ending the sockets they opened is realtime's to do.
        accounts_services.on_credentials_revoked(events.publish_credentials_revoked)
        # accounts announces notifications read; every open tab's header badge shows the new count.
        accounts_notifications.on_unread_count_changed(events.publish_to_user)
        if settings.BACKGROUND_THREADS:
            broadcast_loop.start()
