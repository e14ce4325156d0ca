"""QuickPoll's settings, with the benchmark's URLs (QuickPoll's own plus the trivial baseline view)."""

from quickpoll.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
