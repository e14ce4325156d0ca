"""When two names are one: usernames and display names that would pass for another account's.

Covered: Unicode compatibility forms (NFKC: full-width ａｌｉｃｅ, ligatures, superscripts), case
(casefold), characters that show nothing (zero-width, direction marks, Hangul fillers), Cyrillic and Greek letters drawn like Latin ones (а е о р с у х і ј ѕ, ο α ν ι κ τ ...),
and the digit and letter look-alikes 0/o, 1/l/I/i, 5/s, rn/m and vv/w. Not covered: every other
script's confusables (the full Unicode confusables table), which QuickPoll does not ship.
"""

import re
import unicodedata

# Letters and digits people read as another: each is written as the one it passes for.
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "l", "ї": "l", "ј": "j", "к": "k",
        "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s",
        "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "l", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
        "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ζ": "z", "μ": "u",
        # Latin letters and digits that pass for each other
        "0": "o", "1": "l", "i": "l", "ı": "l", "|": "l", "5": "s", "$": "s",
    }
)
# Characters that show nothing alone (zero-width spaces and joiners, soft hyphens, direction marks,
# variation selectors and other marks, Hangul fillers, which count as letters): "al\u3164ice" reads "alice".
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Mn", "Me"}
_INVISIBLE = {"\u115f", "\u1160", "\u3164", "\uffa0"}
_LETTER_PAIRS = [("rn", "m"), ("vv", "w"), ("cl", "d")]
# What a display name may wrap around a username to pass for it: spaces, "@", dots and dashes.
_DECORATION = re.compile(r"[\s@._\-+]+")


def canonical_username(name: str) -> str:
    """A username as the database stores it: Unicode compatibility forms folded (NFKC)."""
    return unicodedata.normalize("NFKC", name)


def username_key(name: str) -> str:
    """Two usernames with the same key are the same name: NFKC, then case folded."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def username_skeleton(name: str) -> str:
    """Two names with the same skeleton read alike (see the module's docstring for what is covered)."""
    skeleton = username_key(name)
    # Accents off too: "alíce" passes for "alice".
    skeleton = "".join(
        char
        for char in unicodedata.normalize("NFKD", skeleton)
        if not unicodedata.combining(char) and char not in _INVISIBLE and unicodedata.category(char) not in _INVISIBLE_CATEGORIES
    )
    skeleton = skeleton.translate(_LOOKALIKES)
    for pair, letter in _LETTER_PAIRS:
        skeleton = skeleton.replace(pair, letter)
    return skeleton


def display_name_skeleton(display_name: str) -> str:
    """The skeleton a display name would impersonate: "A L I C E", "@alice" and "alice" with a zero-width space inside read as "alice"."""
    return username_skeleton(_DECORATION.sub("", display_name))
