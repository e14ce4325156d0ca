"""A poll's link-preview picture (/polls/<slug>/preview.png, named by its OpenGraph and Twitter tags): the
question and its bars, drawn here with Pillow, so chat apps show the results where they show the link.

It shows what anyone without a vote sees (polls.permissions.can_see_results): where the poll's rule hides
the results, the options without counts and the reason. Drawn once per results version and text (the cache
key holds both), whoever asks first.
"""

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language, gettext, ngettext
from PIL import Image, ImageDraw, ImageFont

from polls import selectors
from polls.models import Poll
from polls.permissions import can_see_results
from quickpoll.cache import cached_or_made

WIDTH, HEIGHT = 1200, 630  # what OpenGraph and Twitter's large card expect (1.91:1)
MAX_AGE = 300  # seconds a crawler or browser may keep it; the ETag answers the rest
MAX_ROWS = 5
CACHE_SECONDS = 24 * 3600
# The light theme's tokens (static/css/quickpoll.css): a picture cannot follow a reader's theme.
PAGE, SURFACE, INK, MUTED = "#f1f1f7", "#ffffff", "#17172b", "#55576b"
BRAND, BRAND_INK, LEADER, TRACK, LINE = "#5b3df5", "#ffffff", "#0b7a4b", "#e6e6f0", "#dcdce8"
FONT_FILE = Path(settings.BASE_DIR) / "static" / "vendor" / "figtree" / "figtree-latin-wght-normal.woff2"


@dataclass(frozen=True)
class PreviewImage:
    png: bytes
    etag: str


@dataclass(frozen=True)
class Row:
    text: str
    figure: str  # "42%", "4.2 / 5", "12×"
    share: float | None  # 0..1, the bar's length; None: no bar (results hidden)
    leads: bool = False


@lru_cache(maxsize=16)
def _font(size: int, weight: int = 500) -> ImageFont.FreeTypeFont:
    try:
        font = ImageFont.truetype(str(FONT_FILE), size)
        font.set_variation_by_axes([weight])
        return font
    except OSError:  # a build without the vendored font or FreeType's WOFF2 support: Pillow's own face
        return ImageFont.load_default(size=size)


def _visible(poll: Poll) -> bool:
    return can_see_results(poll=poll, user=None, has_voted=False)


def _rows(poll: Poll, visible: bool) -> tuple[list[Row], str]:
    """The rows to draw and the line under them (voters, or why results are hidden)."""
    if poll.takes_answers:
        if not visible:
            return [], selectors.results_hidden_reason(poll)
        answers = selectors.full_results(poll)["answers"]
        groups = answers["groups"][:MAX_ROWS]
        top = max((group["count"] for group in groups), default=1)
        rows = [Row(group["text"], f"{group['count']}×", group["count"] / top, index == 0) for index, group in enumerate(groups)]
        return rows, ngettext("%(count)d answer · open text", "%(count)d answers · open text", answers["answers"]) % {"count": answers["answers"]}
    options = selectors.option_results(poll, poll.options.all())["options"] if visible else None
    if options is None:
        rows = [Row(option.text, "", None) for option in poll.options.all()[:MAX_ROWS]]
        return rows, selectors.results_hidden_reason(poll)
    if poll.method == Poll.Method.SCORE:
        rows = [
            Row(o["text"], f"{o['mean']:.1f} / {poll.score_max}" if o.get("mean") is not None else "–", o["percentage"] / 100)
            for o in options
        ]
        summary = ngettext("%(count)d ballot · average score", "%(count)d ballots · average score", poll.total_votes) % {"count": poll.total_votes}
    elif poll.method == Poll.Method.RANKED and poll.total_votes:
        # The instant runoff's last round, as the poll's page shows it: the options still in and their share.
        rounds = selectors.full_results(poll)["ranked"]["rounds"]
        last = {tally["id"]: tally["votes"] for tally in rounds[-1]["tallies"]} if rounds else {}
        counted = sum(last.values()) or 1
        rows = [
            Row(o["text"], f"{last[o['id']] * 100 / counted:.0f}%", last[o["id"]] / counted) if o["id"] in last
            else Row(o["text"], gettext("out"), 0.0)
            for o in options
        ]
        summary = ngettext("%(count)d ballot", "%(count)d ballots", poll.total_votes) % {"count": poll.total_votes} + " · " + ngettext(
            "after %(rounds)d round of instant runoff", "after %(rounds)d rounds of instant runoff", len(rounds)
        ) % {"rounds": len(rounds)}
    else:
        rows = [Row(o["text"], f"{o['percentage']:.0f}%", o["percentage"] / 100) for o in options]
        if poll.method == Poll.Method.RANKED:
            summary = ngettext("%(count)d ballot", "%(count)d ballots", poll.total_votes) % {"count": poll.total_votes}
        else:
            summary = ngettext("%(count)d vote", "%(count)d votes", poll.total_votes) % {"count": poll.total_votes}
    best = max((row.share for row in rows), default=0)
    rows = [Row(row.text, row.figure, row.share, best > 0 and row.share == best) for row in rows]
    rows = sorted(rows, key=lambda row: -(row.share or 0))[:MAX_ROWS]
    more = len(options) - len(rows)
    return rows, summary + (" · " + ngettext("%(count)d more option", "%(count)d more options", more) % {"count": more} if more > 0 else "")


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int, lines: int) -> list[str]:
    """The text broken into at most `lines` lines of `width` pixels, the last cut with an ellipsis if needed."""
    words, out, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:
            line = candidate
            continue
        if line:
            out.append(line)
        line = word
        while draw.textlength(line, font=font) > width:  # one word longer than the line: cut it
            cut = len(line)
            while cut > 1 and draw.textlength(line[:cut], font=font) > width:
                cut -= 1
            out.append(line[:cut])
            line = line[cut:]
    if line:
        out.append(line)
    if len(out) > lines:
        out = out[:lines]
        last = out[-1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        out[-1] = last.rstrip() + "…"
    return out


def _draw_logo(draw: ImageDraw.ImageDraw, x: int, y: int, size: int) -> None:
    scale = size / 32  # the mark's own 32-unit grid (templates/_logo.html)
    draw.rounded_rectangle((x, y, x + size, y + size), radius=9 * scale, fill=BRAND)
    for left, top, height in ((7.5, 15, 10), (13.75, 7, 18), (20, 11.5, 13.5)):
        draw.rounded_rectangle(
            (x + left * scale, y + top * scale, x + (left + 4.5) * scale, y + (top + height) * scale),
            radius=2.25 * scale,
            fill=BRAND_INK,
        )


def draw_preview(poll: Poll, *, visible: bool) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), PAGE)
    draw = ImageDraw.Draw(image)
    margin = 56
    draw.rounded_rectangle((32, 32, WIDTH - 32, HEIGHT - 32), radius=28, fill=SURFACE, outline=LINE, width=2)
    _draw_logo(draw, margin + 8, margin, 44)
    draw.text((margin + 66, margin + 22), settings.APP_NAME, font=_font(30, 700), fill=INK, anchor="lm")
    status = gettext("Open · vote now") if poll.is_open else gettext("Closed · final results") if visible else gettext("Closed")
    draw.text((WIDTH - margin - 8, margin + 22), status, font=_font(26, 600), fill=BRAND if poll.is_open else MUTED, anchor="rm")

    title_font = _font(52, 700)
    y = margin + 84
    for line in _fit(draw, poll.title, title_font, WIDTH - 2 * margin - 16, 2):
        draw.text((margin + 8, y), line, font=title_font, fill=INK)
        y += 62
    y += 18

    rows, summary = _rows(poll, visible)
    text_font, figure_font = _font(30, 500), _font(30, 700)
    left, right = margin + 8, WIDTH - margin - 8
    row_height = 66 if len(rows) > 4 else 74
    room = HEIGHT - margin - 64 - y  # above the summary line
    fits = max(1, room // row_height)
    if len(rows) > fits:
        summary += " · " + gettext("%(count)d more not shown") % {"count": len(rows) - fits}
        rows = rows[:fits]
    for row in rows:
        figure_width = draw.textlength(row.figure, font=figure_font) if row.figure else 0
        label = _fit(draw, row.text, text_font, int(right - left - figure_width - 24), 1)
        draw.text((left, y), label[0] if label else "", font=text_font, fill=INK)
        if row.figure:
            draw.text((right, y), row.figure, font=figure_font, fill=LEADER if row.leads else MUTED if row.share == 0 else INK, anchor="ra")
        bar_top = y + 42
        if row.share is None:  # hidden results: no track either, which would read as "no votes"
            draw.line((left, bar_top + 6, right, bar_top + 6), fill=LINE, width=2)
            y += row_height
            continue
        draw.rounded_rectangle((left, bar_top, right, bar_top + 12), radius=6, fill=TRACK)
        if row.share:
            end = left + max(12, (right - left) * min(row.share, 1))
            draw.rounded_rectangle((left, bar_top, end, bar_top + 12), radius=6, fill=LEADER if row.leads else BRAND)
        y += row_height
    draw.text((left, HEIGHT - margin - 8), summary, font=_font(26, 500), fill=MUTED, anchor="ls")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def preview_png(poll: Poll) -> PreviewImage:
    """The picture for this poll now: from the cache while its results version and text stay the same."""
    visible = _visible(poll)
    texts = "\n".join([poll.title, *(option.text for option in poll.options.all())])
    fingerprint = hashlib.sha256(
        f"{poll.results_version}:{visible}:{poll.is_open}:{poll.updated_at.isoformat()}:{get_language()}:{texts}".encode()
    ).hexdigest()[:24]
    # The results version is in the key: a vote makes a new picture, and readers of one version share one.
    key = f"poll-preview:{poll.pk}:{fingerprint}"
    png = cached_or_made(cache, key, lambda: draw_preview(poll, visible=visible), timeout=CACHE_SECONDS, what=f"preview of poll {poll.pk}")
    return PreviewImage(png=png, etag=f'"{fingerprint}"')
