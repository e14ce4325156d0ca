from django.urls import re_path

from realtime import consumers

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

websocket_urlpatterns = [
    re_path(rf"^ws/poll/(?P<poll_id>{UUID})/?$", consumers.PollResultsConsumer.as_asgi()),
    re_path(rf"^ws/user/(?P<user_id>{UUID})/?$", consumers.UserConsumer.as_asgi()),
    re_path(rf"^ws/deck/(?P<deck_id>{UUID})/?$", consumers.DeckConsumer.as_asgi()),
    re_path(r"^ws/global/?$", consumers.GlobalConsumer.as_asgi()),
    # Anything else under /ws/ (a mistyped path, an id that is not one): refused with 4404, not a 500.
    re_path(r"", consumers.UnknownSocket.as_asgi()),
]
