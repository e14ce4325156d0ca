# WebSocket routes; the consumers for /ws/poll, /ws/user and /ws/global are added here.
websocket_urlpatterns: list = []
