"""Small template filters for polls."""

from django import template

from polls import join_codes

register = template.Library()


@register.filter
def join_code(code: str) -> str:
    """A join code as it is read out to a room: "ABC 234"."""
    return join_codes.display(code)
