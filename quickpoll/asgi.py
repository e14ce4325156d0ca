import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickpoll.settings")
# Set up Django (apps, models) before anything imports consumers or models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from granian.utils.proxies import wrap_asgi_with_proxy_headers  # noqa: E402

from quickpoll.outages import SocketOutageMiddleware  # noqa: E402
from realtime.auth import BrowserOriginValidator, JwtAuthMiddleware  # noqa: E402
from realtime.broadcast_loop import ServerLoopMiddleware  # noqa: E402
from realtime.lifespan import LifespanMiddleware  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

# The client's address comes from X-Forwarded-For, but only when a trusted proxy (nginx) sent it,
# as quickpoll.wsgi does: the same under granian and uvicorn (started without --proxy-headers).
_proxied = wrap_asgi_with_proxy_headers(
    ServerLoopMiddleware(
        LifespanMiddleware(
            ProtocolTypeRouter(
                {
                    "http": django_asgi_app,
                    "websocket": SocketOutageMiddleware(
                        BrowserOriginValidator(AuthMiddlewareStack(JwtAuthMiddleware(URLRouter(websocket_urlpatterns))))
                    ),
                }
            )
        )
    ),
    trusted_hosts=settings.FORWARDED_ALLOW_IPS,
)


async def application(scope, receive, send):
    # A coroutine function: granian's wrapper is a plain one, which asgiref and daphne would take for ASGI 2.
    await _proxied(scope, receive, send)
