"""Join codes: what an audience types to reach a poll or a deck (/j/<code>).

Six characters from an alphabet without the look-alikes 0/O and 1/I, so a code read off a
projector is typed right; case and spacing do not matter. A poll's code starts with a letter and
a deck's with a digit, so the two never meet, and each table's unique index referees its own.
"""

import re
import secrets

from django.db import IntegrityError, transaction

LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
DIGITS = "23456789"
ALPHABET = LETTERS + DIGITS
LENGTH = 6
_CODE = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")
ATTEMPTS = 5


def _draw(first: str) -> str:
    return secrets.choice(first) + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH - 1))


def poll_code() -> str:
    return _draw(LETTERS)


def deck_code() -> str:
    return _draw(DIGITS)


def save_with_code(instance) -> None:
    """Save a new Poll or Deck with a code no other holds. A code drawn by two creations at once is
    refused to the second by the unique index; it draws again (a savepoint keeps its transaction)."""
    draw = deck_code if type(instance).__name__ == "Deck" else poll_code
    manager = type(instance).objects
    for attempt in range(ATTEMPTS):
        code = draw()
        if manager.filter(join_code=code).exists():
            continue
        instance.join_code = code
        try:
            with transaction.atomic():
                instance.save(force_insert=True)
            return
        except IntegrityError:
            if attempt == ATTEMPTS - 1 or manager.filter(join_code=code).exclude(pk=instance.pk).first() is None:
                raise
    raise IntegrityError("no free join code found")


def normalise(raw) -> str | None:
    """The code someone typed, upper-cased without spaces or dashes; None if it cannot be a code."""
    code = re.sub(r"[\s\-·.]", "", str(raw or "")).upper()
    return code if _CODE.match(code) else None


def display(code: str) -> str:
    """"ABC 234": two halves are easier to read out to a room."""
    half = LENGTH // 2
    return f"{code[:half]} {code[half:]}" if code else ""


def find(raw):
    """The poll (not held) or the deck that answers to a typed code; None if none does."""
    from polls.models import Deck, Poll

    code = normalise(raw)
    if code is None:
        return None
    if code[0] in DIGITS:
        return Deck.objects.select_related("author").filter(join_code=code).first()
    return Poll.objects.select_related("author").filter(join_code=code, held_at__isnull=True).first()
