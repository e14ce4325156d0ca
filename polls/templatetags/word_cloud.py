"""An open-text poll's word cloud (templates/polls/_answers.html), for the page and its live snapshots alike."""

from django import template

register = template.Library()


@register.filter
def cloud_order(groups: list[dict]) -> list[dict]:
    """The groups (most answers first) laid out from the middle: the biggest words sit at the cloud's centre,
    smaller ones alternate to its left and right, so the cloud reads as a cloud rather than a sorted list."""
    left, right = [], []
    for index, group in enumerate(groups or ()):
        (right if index % 2 == 0 else left).append(group)
    return left[::-1] + right
