"""Django's database sessions, refusing session keys that no session can have."""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

_KEY_CHARS = frozenset(VALID_KEY_CHARS)


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        # A quoted cookie may carry octal escapes (sessionid="\000") and so a NUL, which PostgreSQL
        # refuses with an error (a 500 on any page or API call); Django only issues [a-z0-9] keys.
        return super()._validate_session_key(key) and set(key) <= _KEY_CHARS
