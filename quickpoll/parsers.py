"""The API's JSON parser: a body nested absurdly deep is a 400 in the API's error shape, not a 500.

Python's json decoder recurses once per level of nesting, so a body of 100000 "[" used to end in a
RecursionError; no QuickPoll request nests deeper than a few levels, so MAX_JSON_DEPTH is plenty.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32


def json_depth_exceeds(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether decoded JSON nests lists and objects deeper than `limit`; walked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class TooDeeplyNested(ParseError):
    default_detail = f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep."


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise TooDeeplyNested() from None
        if json_depth_exceeds(data):
            raise TooDeeplyNested()
        return data

