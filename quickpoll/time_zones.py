"""Time zones by name: the ones a browser may send (IANA names), and the zone a page's dates are written in."""

import functools
import zoneinfo
from datetime import UTC, tzinfo


@functools.cache
def _known_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def known_zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone of that IANA name ("Europe/Paris"), or None for anything else (a path, a typo, junk)."""
    # Looked up in the known names first: ZoneInfo() itself would read any file a crafted name points at.
    return zoneinfo.ZoneInfo(name) if name in _known_names() else None


def zone_name(zone: tzinfo) -> str:
    return "UTC" if zone is UTC else str(zone)

