"""Embedding a poll in other sites: which origins may frame its embed page, the <iframe> snippet, oEmbed.

A poll's `embed_origins` lists the sites (origins such as https://blog.example.org, or https://*.example.org
for its subdomains) whose pages may show /embed/<slug> in a frame; empty means any site. The list becomes
that one page's `frame-ancestors`; every other page keeps `frame-ancestors 'none'` (quickpoll/settings.py).
"""

import re
from html import escape
from urllib.parse import urlencode, urlsplit

from django.urls import resolve, reverse
from django.urls.exceptions import Resolver404
from django.utils.translation import gettext as _

MAX_EMBED_ORIGINS = 20
ANY_ORIGIN = "*"  # frame-ancestors * : any http(s) page may frame it
# A scheme, a host (its first label may be "*" for every subdomain) and an optional port; nothing else.
_ORIGIN = re.compile(r"^(https?)://((?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::(\d{1,5}))?/?$")

# The iframe's size: wide enough for a ballot, tall enough for five options and the vote button.
DEFAULT_WIDTH, DEFAULT_HEIGHT = 560, 520
MIN_WIDTH, MIN_HEIGHT = 240, 240


def clean_origins(values) -> tuple[list[str], list[str]]:
    """The origins as stored (lower case, no trailing slash, each once) and the problems with the others."""
    if isinstance(values, str):
        values = values.split()
    cleaned, problems = [], []
    for value in values:
        text = str(value).strip().lower()
        if not text:
            continue
        match = _ORIGIN.match(text)
        if match is None or (match.group(3) and not 0 < int(match.group(3)) < 65536):
            problems.append(
                _("“%(origin)s” is not a site's address: write it as https://example.org (a scheme, a host, maybe a port).")
                % {"origin": str(value)[:100]}
            )
            continue
        origin = text.rstrip("/")
        if origin not in cleaned:
            cleaned.append(origin)
    if len(cleaned) > MAX_EMBED_ORIGINS:
        problems.append(_("At most %(count)d sites.") % {"count": MAX_EMBED_ORIGINS})
    return cleaned, problems


def frame_ancestors(poll) -> list[str]:
    """The embed page's `frame-ancestors`: the poll's sites, or any site when it names none."""
    return list(poll.embed_origins) or [ANY_ORIGIN]


def embed_url(request, poll) -> str:
    return request.build_absolute_uri(reverse("poll-embed", kwargs={"ref": poll.slug}))


def embed_size(*, maxwidth: int | None = None, maxheight: int | None = None) -> tuple[int, int]:
    """The iframe's width and height, within a consumer's maxwidth/maxheight (never below what stays usable)."""
    width = max(MIN_WIDTH, min(DEFAULT_WIDTH, maxwidth)) if maxwidth else DEFAULT_WIDTH
    height = max(MIN_HEIGHT, min(DEFAULT_HEIGHT, maxheight)) if maxheight else DEFAULT_HEIGHT
    return width, height


def embed_snippet(request, poll, *, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT) -> str:
    """The <iframe> a site pastes (the share panel) or an oEmbed consumer inserts: the same markup for both."""
    title = _("Poll: %(title)s") % {"title": poll.title}
    return (
        f'<iframe src="{escape(embed_url(request, poll))}" title="{escape(title)}" width="{width}" height="{height}" '
        f'style="border:0;max-width:100%" loading="lazy"></iframe>'
    )


def poll_ref_from_url(url: str, request) -> str | None:
    """The poll a URL names (/p/<ref>/ or /embed/<ref>), if it points at this site; None otherwise."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != request.get_host().lower():
        return None
    try:
        match = resolve(parts.path or "/")
    except Resolver404:
        return None
    if match.url_name not in ("poll-detail", "poll-embed"):
        return None
    return match.kwargs["ref"]


def oembed_discovery_url(request, poll) -> str:
    query = urlencode({"url": request.build_absolute_uri(reverse("poll-detail", kwargs={"ref": poll.slug})), "format": "json"})
    return request.build_absolute_uri(f"{reverse('oembed')}?{query}")
