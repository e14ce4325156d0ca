"""Gives each pytest-xdist worker its own Redis database and key prefix (bin/test loads it).

Tests empty the cache (a FLUSHDB on Redis) and share the global socket group, so workers
sharing one database and prefix would see each other's keys and broadcasts. Imported with
`-p`, before pytest-django reads the settings; the settings then read the changed URL.
"""

import os
from urllib.parse import urlsplit, urlunsplit

worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if worker.startswith("gw") and os.environ.get("REDIS_URL"):
    parts = urlsplit(os.environ["REDIS_URL"])
    # Database 0 stays the one the run was given; workers take 1, 2, ... (Redis has 16).
    os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{int(worker[2:]) % 15 + 1}"))
    os.environ["REDIS_KEY_PREFIX"] = f"quickpoll-{worker}"
