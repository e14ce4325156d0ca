"""Reading server-rendered pages in tests: the text people see, the messages shown, one form field."""

import re
from html import unescape
from urllib.parse import quote

from django.test import Client

_MESSAGE = re.compile(r'<li class="message ([\w ]+)">(.*?)</li>', re.S)
# Each field of templates/_form_fields.html and polls/form.html opens with <div class="field...">;
# "field-errors" inside it does not match, so a block runs from one field to the next.
_FIELD_START = re.compile(r'<div class="field[ "]')


def signed_in(user) -> Client:
    """A browser with a session for `user`."""
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    """The page as people read it: HTML entities decoded (markup kept)."""
    return unescape(response.content.decode())


def shown_messages(response) -> list[tuple[str, str]]:
    """The flash messages on the page, as (level, text): ("error", "You have already voted ...")."""
    return [(level, unescape(body).strip()) for level, body in _MESSAGE.findall(response.content.decode())]


def field_block(response, name: str) -> str:
    """The rendered block of the form field whose input is named `name`: label, input, help and errors."""
    blocks = [block for block in _FIELD_START.split(response.content.decode())[1:] if f'name="{name}"' in block]
    assert len(blocks) == 1, f"{len(blocks)} blocks hold an input named {name!r}"
    return unescape(blocks[0])


def block_of(response, name: str) -> str:
    """The rendered block of the form field marked data-field="name", inputs or none (fixed options show as text)."""
    blocks = [block for block in _FIELD_START.split(response.content.decode())[1:] if f'data-field="{name}"' in block]
    assert len(blocks) == 1, f"{len(blocks)} blocks are marked data-field={name!r}"
    return unescape(blocks[0])


def field_errors(response, name: str) -> list[str]:
    """The errors shown beside one field (the <li>s of its errorlist)."""
    block = field_block(response, name)
    errors = re.search(r'<div class="field-errors" role="alert"[^>]*>(.*?)</div>', block, re.S)
    return [item.strip() for item in re.findall(r"<li>(.*?)</li>", errors.group(1), re.S)] if errors else []


def login_redirect(path: str) -> str:
    """Where login_required sends an anonymous visitor who asked for `path`."""
    return f"/accounts/login/?next={quote(path)}"
