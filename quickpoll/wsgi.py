"""QuickPoll's HTTP side for production: pages and the API under a WSGI server (granian).

WebSockets stay on the ASGI application (quickpoll.asgi), in processes of their own;
bin/production starts both behind nginx. docs/performance.md says why.
Its background threads (broadcasts, view counts) start in the apps' ready(), when
BACKGROUND_THREADS is on, as bin/production sets it for these processes.
"""

import os

from django.core.wsgi import get_wsgi_application
from granian.utils.proxies import wrap_wsgi_with_proxy_headers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quickpoll.settings")
django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402

# The client's address comes from X-Forwarded-For, but only when a trusted proxy (nginx) sent it.
application = wrap_wsgi_with_proxy_headers(django_application, trusted_hosts=settings.FORWARDED_ALLOW_IPS)
