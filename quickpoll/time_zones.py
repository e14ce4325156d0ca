"""Time zones by name: the ones a browser may send (IANA names), and the zone a page's dates are written in."""

import functools
import zoneinfo
from datetime import UTC, tzinfo

from django.utils import timezone


@functools.cache
def _known_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def known_zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone of that IANA name ("Europe/Paris"), or None for anything else (a path, a typo, junk)."""
    # Looked up in the known names first: ZoneInfo() itself would read any file a crafted name points at.
    return zoneinfo.ZoneInfo(name) if name in _known_names() else None


def zone_name(zone: tzinfo) -> str:
    return "UTC" if zone is UTC else str(zone)


def account_zone_active() -> bool:
    """Whether this request writes times in a zone its account chose, rather than the default (UTC)."""
    return timezone.get_current_timezone() is not timezone.get_default_timezone()



@functools.cache
def selectable_zone_names() -> tuple[str, ...]:
    """The zones offered in a picker: "Region/City" names and UTC, without the legacy aliases (US/Eastern, Etc/GMT+5)."""
    regions = {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
    return ("UTC", *sorted(name for name in _known_names() if name.split("/", 1)[0] in regions and "/" in name))


class AccountTimeZoneMiddleware:
    """Pages of a signed-in account with a time zone are written in it; the API stays in UTC (ISO 8601)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = None if request.path.startswith("/api/") else getattr(request, "user", None)
        zone = known_zone(user.time_zone) if user is not None and user.is_authenticated and user.time_zone else None
        if zone is None:
            return self.get_response(request)
        # datetime.UTC, not the default ZoneInfo("UTC"): pages tell a chosen UTC from none (accounts' "when").
        timezone.activate(UTC if user.time_zone == "UTC" else zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
