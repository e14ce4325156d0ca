"""How each voting method's ballot and results read on a poll's page (templates/polls/_results.html).

The numbers come from polls.selectors.full_results; this module only arranges them for the cards: the final
instant-runoff round and its step-through for a ranked poll, means and distributions for a score poll.
Sentences are worded in the templates, so everything users typed stays escaped there.
"""

from collections.abc import Mapping

from django import template
from django.contrib.humanize.templatetags.humanize import ordinal as humanize_ordinal
from django.utils.translation import gettext_lazy, ngettext_lazy

register = template.Library()

# The distribution's little bars (an inline SVG, no style attribute): one bar per score, in viewBox units.
DISTRIBUTION_BAR, DISTRIBUTION_GAP, DISTRIBUTION_HEIGHT = 6, 2, 20


def ordinal(number: int) -> str:
    # Django's, in the page's language: 1st, 1., 1.º
    return humanize_ordinal(number)


register.filter("ordinal", ordinal)


def _marks(poll, checked) -> dict:
    """The form's current ballot as {option id: rank or score}. `checked` is a mapping (scores, or ranks), or
    option ids in order of preference (a ranked ballot as the services take it)."""
    if isinstance(checked, Mapping):
        return {str(key): value for key, value in checked.items() if value not in (None, "")}
    return {str(pk): position for position, pk in enumerate(checked or (), start=1)}


# Each ballot's sentences whole, per method, so that translators see them whole:
# (exactly, low to high, up to, at least, no limit).
_HINTS = {
    "approval": (
        ngettext_lazy("Pick one option", "Pick %(count)d options", "count"),
        gettext_lazy("Pick %(low)d to %(high)d options"),
        ngettext_lazy("Pick up to %(count)d option", "Pick up to %(count)d options", "count"),
        gettext_lazy("Pick at least %(count)d options"),
        gettext_lazy("Pick any options"),
    ),
    "ranked": (
        ngettext_lazy("Rank one option", "Rank %(count)d options", "count"),
        gettext_lazy("Rank %(low)d to %(high)d options"),
        ngettext_lazy("Rank up to %(count)d option", "Rank up to %(count)d options", "count"),
        gettext_lazy("Rank at least %(count)d options"),
        gettext_lazy("Rank as many options as you like"),
    ),
    "score": (
        ngettext_lazy("Rate one option", "Rate %(count)d options", "count"),
        gettext_lazy("Rate %(low)d to %(high)d options"),
        ngettext_lazy("Rate up to %(count)d option", "Rate up to %(count)d options", "count"),
        gettext_lazy("Rate at least %(count)d options"),
        gettext_lazy("Rate as many options as you like"),
    ),
}


@register.simple_tag
def ballot_hint(poll) -> str:
    """What the ballot asks for, with the poll's minimum and maximum: "Pick 2 to 4 options", "Rank up to 3"."""
    low, high = poll.choice_minimum, poll.max_choices
    if poll.method == "single":
        return _HINTS["approval"][0] % {"count": 1}  # "Pick one option"
    exactly, between, up_to, at_least, any_number = _HINTS[poll.method]
    if high and high == low:
        return exactly % {"count": low}
    if high and low > 1:
        return between % {"low": low, "high": high}
    if high:
        return up_to % {"count": high}
    if low > 1:
        return at_least % {"count": low}
    return str(any_number)


@register.simple_tag
def rank_choices(poll, option_count) -> list[int]:
    """The ranks a select offers: 1 to the most options a ballot may rank."""
    return list(range(1, min(poll.max_choices or option_count, option_count) + 1))


@register.simple_tag
def ranked_count(poll, results, my_votes=(), checked=()) -> dict:
    """A ranked poll's cards and rounds. Cards show the final round (or, without results, only the options);
    each round lists the options still in the race with their share of the ballots still counting, the change
    since the round before, and who went out and why."""
    marks = _marks(poll, checked)
    options = results["options"] if results else [{"id": str(o.pk), "text": o.text} for o in poll.options.all()]
    ranked = (results or {}).get("ranked") or {}
    rounds = ranked.get("rounds") or []
    mine = _marks(poll, my_votes) if isinstance(my_votes, (list, tuple, Mapping)) else {str(pk): None for pk in my_votes}
    out_in = {one["eliminated"]["id"]: one["number"] for one in rounds if one["eliminated"]}
    steps, before = [], {}
    for one in rounds:
        continuing = sum(row["votes"] for row in one["tallies"])
        fewest = min((row["votes"] for row in one["tallies"]), default=0)
        gone = one["eliminated"]["id"] if one["eliminated"] else None
        rows = [
            row
            | {
                "percentage": round(100 * row["votes"] / continuing, 1) if continuing else 0.0,
                "change": row["votes"] - before[row["id"]] if before else None,
                "out": row["id"] == gone,
            }
            for row in one["tallies"]
        ]
        leader = max(rows, key=lambda row: row["votes"], default=None)
        steps.append(
            one
            | {
                "of": len(rounds),
                "continuing": continuing,
                "rows": rows,
                "fewest": fewest,
                "tied": [row for row in rows if row["votes"] == fewest] if one["tie_broken_by"] else [],
                "leader": leader,
                "majority": bool(leader) and 2 * leader["votes"] > continuing,
                "last": one is rounds[-1],
            }
        )
        before = {row["id"]: row["votes"] for row in one["tallies"]}
    final = {row["id"]: row for row in steps[-1]["rows"]} if steps else {}
    cards = []
    for option in options:
        shown = final.get(option["id"])
        cards.append(
            {
                "id": option["id"],
                "text": option["text"],
                "first": option.get("votes", 0),
                "votes": shown["votes"] if shown else 0,
                "percentage": shown["percentage"] if shown else 0.0,
                "out_in": out_in.get(option["id"]),
                "winner": results is not None and option["id"] == ranked.get("winner"),
                "mine": option["id"] in mine,
                "my_rank": mine.get(option["id"]),
                "rank": marks.get(option["id"], ""),
            }
        )
    named = {option["id"]: option for option in options}
    return {
        "cards": cards,
        "rounds": steps,
        "ballots": ranked.get("ballots", 0),
        "exhausted": ranked.get("exhausted", 0),
        "winner": named.get(ranked.get("winner")),
        "condorcet": named.get(ranked.get("condorcet_winner")),
        "eliminated_ids": set(out_in),
    }


@register.simple_tag
def score_cards(poll, results, my_votes=(), checked=(), my_scores=None) -> list[dict]:
    """A score poll's cards: the mean as a share of the top score (the bar), the number of ratings, and the
    distribution as little bars with their numbers in words for screen readers; with `my_scores` (the page's
    voter, not a live snapshot) the score the viewer gave."""
    marks = _marks(poll, checked)
    block = (results or {}).get("score") or {}
    rows = block.get("options") if results else [{"id": str(o.pk), "text": o.text} for o in poll.options.all()]
    scale = list(range(block.get("min", poll.score_min), block.get("max", poll.score_max) + 1))
    means = [row["mean"] for row in rows if row.get("mean") is not None]
    top = max(means, default=None)
    mine = {str(pk) for pk in my_votes}
    cards = []
    for row in rows:
        counts = row.get("distribution") or []
        most = max(counts, default=0)
        bars = []
        for step, (score, n) in enumerate(zip(scale, counts, strict=False)):
            height = round(DISTRIBUTION_HEIGHT * n / most, 1) if most else 0
            x = step * (DISTRIBUTION_BAR + DISTRIBUTION_GAP)
            bars.append({"score": score, "count": n, "x": x, "y": DISTRIBUTION_HEIGHT - height, "height": height})
        cards.append(
            {
                "id": row["id"],
                "text": row["text"],
                "mean": row.get("mean"),
                "ratings": row.get("ratings", row.get("votes", 0)),
                "percentage": row.get("percentage", 0.0),
                "bars": bars,
                "leader": results is not None and top is not None and row.get("mean") == top,
                "mine": row["id"] in mine,
                "my_score": (my_scores or {}).get(row["id"]),
                "score": marks.get(row["id"], ""),
            }
        )
    return cards


@register.simple_tag
def distribution_box(poll) -> dict:
    """The viewBox of a score card's distribution: one bar per score of the poll's range."""
    steps = poll.score_max - poll.score_min + 1
    width = steps * (DISTRIBUTION_BAR + DISTRIBUTION_GAP) - DISTRIBUTION_GAP
    return {"width": width, "height": DISTRIBUTION_HEIGHT, "bar": DISTRIBUTION_BAR}


@register.simple_tag
def score_scale(poll) -> list[dict]:
    """The scores a ballot offers, each with its words for screen readers ("3 stars of 5")."""
    return [
        {"value": value, "words": f"{value} star{'' if value == 1 else 's'} of {poll.score_max}"}
        for value in range(poll.score_min, poll.score_max + 1)
    ]
