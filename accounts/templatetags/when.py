"""Dates on pages, in words and never as an ISO timestamp: `{% load when %}`, then

    {{ poll.expires_at|when }}             Wed 3 Dec, 14:00 UTC
    {{ poll.created_at|when:"relative" }}  5 minutes ago   (the full date as its tooltip)
    {{ user.date_joined|when:"day" }}      Wed 3 Dec 2025

The server writes the signed-in account's time zone (quickpoll.time_zones.AccountTimeZoneMiddleware),
else UTC, and says which; the "Dates" part of static/js/quickpoll.js keeps the account's zone
(data-zone) or, without one, rewrites every <time data-when> into the reader's own zone, and keeps
relative ones fresh. The wording here matches Intl.RelativeTimeFormat(<page language>, {numeric: "auto"}).
"""

from datetime import UTC, datetime, tzinfo

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _, ngettext_lazy, pgettext, pgettext_lazy

from quickpoll.time_zones import account_zone_active, zone_name

register = template.Library()

STYLES = ("date", "relative", "day")

# (unit, seconds in it, the largest count written in it before moving up a unit), as the script's.
_UNITS = [
    ("second", 1, 45),
    ("minute", 60, 45),
    ("hour", 3600, 22),
    ("day", 86400, 6),
    ("week", 7 * 86400, 4),
    ("month", 30 * 86400, 11),
    ("year", 365 * 86400, None),
]
_NEXT_AND_LAST = {
    "day": (pgettext_lazy("relative time", "tomorrow"), pgettext_lazy("relative time", "yesterday")),
    "week": (pgettext_lazy("relative time", "next week"), pgettext_lazy("relative time", "last week")),
    "month": (pgettext_lazy("relative time", "next month"), pgettext_lazy("relative time", "last month")),
    "year": (pgettext_lazy("relative time", "next year"), pgettext_lazy("relative time", "last year")),
}
# (in the future, in the past) per unit; whole sentences, so each language orders its own words.
_COUNTED = {
    "minute": (ngettext_lazy("in %(count)d minute", "in %(count)d minutes", "count"),
               ngettext_lazy("%(count)d minute ago", "%(count)d minutes ago", "count")),
    "hour": (ngettext_lazy("in %(count)d hour", "in %(count)d hours", "count"),
             ngettext_lazy("%(count)d hour ago", "%(count)d hours ago", "count")),
    "day": (ngettext_lazy("in %(count)d day", "in %(count)d days", "count"),
            ngettext_lazy("%(count)d day ago", "%(count)d days ago", "count")),
    "week": (ngettext_lazy("in %(count)d week", "in %(count)d weeks", "count"),
             ngettext_lazy("%(count)d week ago", "%(count)d weeks ago", "count")),
    "month": (ngettext_lazy("in %(count)d month", "in %(count)d months", "count"),
              ngettext_lazy("%(count)d month ago", "%(count)d months ago", "count")),
    "year": (ngettext_lazy("in %(count)d year", "in %(count)d years", "count"),
             ngettext_lazy("%(count)d year ago", "%(count)d years ago", "count")),
}


def day_words(value: datetime, *, now: datetime) -> str:
    """Wed 3 Dec, with the year only when it is not this year's."""
    # Day and month names in the page's language; each translation orders them ("Mi., 3. Dez.").
    if value.year == now.year:
        return date_format(value, pgettext("date without year", "D j M"))
    return date_format(value, pgettext("date with year", "D j M Y"))


def date_words(value: datetime, *, now: datetime, zone: tzinfo = UTC) -> str:
    """Wed 3 Dec, 14:00 UTC; in another zone its abbreviation (CET, EST, +03)."""
    value, now = value.astimezone(zone), now.astimezone(zone)
    return _("%(day)s, %(clock)s %(zone)s") % {"day": day_words(value, now=now), "clock": f"{value:%H:%M}", "zone": f"{value:%Z}"}


def relative_words(value: datetime, *, now: datetime) -> str:
    """"in 2 days", "5 minutes ago", "now": the unit that keeps the count small."""
    seconds = (value - now).total_seconds()
    for unit, size, largest in _UNITS:
        count = int(abs(seconds) / size + 0.5)  # half up, as Math.round
        if largest is None or count < largest:
            break
    if unit == "second":
        return pgettext("relative time", "now")
    if count == 1 and unit in _NEXT_AND_LAST:
        return str(_NEXT_AND_LAST[unit][0 if seconds > 0 else 1])
    return _COUNTED[unit][0 if seconds > 0 else 1] % {"count": count}


@register.filter(is_safe=True)
def when(value: datetime | None, style: str = "date") -> str:
    if not value:
        return ""
    if style not in STYLES:
        raise ValueError(f"when: style {style!r} is none of {', '.join(STYLES)}")
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    now = timezone.now()
    zone = timezone.get_current_timezone()
    full = date_words(value, now=now, zone=zone)
    shown = {
        "date": full,
        "relative": relative_words(value, now=now),
        "day": day_words(value.astimezone(zone), now=now.astimezone(zone)),
    }[style]
    iso = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not account_zone_active():
        return format_html('<time datetime="{}" data-when="{}" title="{}">{}</time>', iso, style, full, shown)
    # The account's own zone: the page script keeps it rather than the browser's.
    return format_html(
        '<time datetime="{}" data-when="{}" data-zone="{}" title="{}">{}</time>', iso, style, zone_name(zone), full, shown
    )
