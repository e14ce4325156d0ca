"""The option cards of a poll's page, shared by the page and its live snapshots (templates/polls/_results.html)."""

from django import template

from polls.models import Ballot

register = template.Library()


@register.simple_tag
def option_cards(poll, results, my_votes=(), checked=()) -> list[dict]:
    """Each option as its card shows it: id and text; with visible results its votes and share, and whether it
    leads (ties lead together); whether it is the viewer's pick (`my_votes`) or ticked in the form (`checked`)."""
    if results:
        rows = results["options"]
    else:
        rows = [{"id": str(option.pk), "text": option.text} for option in poll.options.all()]
    top = max((row["votes"] for row in rows), default=0) if results else 0
    mine = {str(pk) for pk in my_votes}
    ticked = {str(pk) for pk in checked}
    return [
        {**row, "leader": top > 0 and row["votes"] == top, "mine": row["id"] in mine, "checked": row["id"] in ticked}
        for row in rows
    ]


@register.simple_tag
def voter_count(poll, results) -> int:
    """How many voters cast the results' votes: one vote each on a single-choice poll, else its ballots."""
    if not results["total_votes"] or not poll.allow_multiple:
        return results["total_votes"]
    return Ballot.objects.filter(poll_id=poll.pk).count()
