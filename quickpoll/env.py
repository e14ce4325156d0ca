"""Typed readers for settings taken from the environment.

Each reader names the variable in its error, so a malformed value stops start-up
with a message an operator can act on instead of a traceback deep in Django.
"""

import ipaddress
import json
import os
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    """A JSON list (`["a","b"]`, as the earlier version took) or a comma-separated string."""
    value = _raw(name)
    if value is None or value == "":
        return list(default)
    if value.startswith("["):
        try:
            items = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ImproperlyConfigured(f"{name} is not valid JSON: {exc.msg}") from None
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ImproperlyConfigured(f"{name} must be a JSON list of strings")
        return [item.strip() for item in items if item.strip()]
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str, default: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Address ranges as env_list reads them: `127.0.0.0/8,::1/128`; a bare address is a range of one."""
    try:
        return [ipaddress.ip_network(item, strict=False) for item in env_list(name, default)]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must list addresses or ranges such as 10.0.0.0/8: {exc}") from None


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        allowed = ", ".join(sorted(choices))
        raise ImproperlyConfigured(f"{name} must be one of {allowed}, got {value!r}")
    return value


_HOSTLESS_SCHEMES = {"sqlite", "unix"}  # a file path, not a host


def env_url(name: str, schemes: set[str]) -> str | None:
    value = _raw(name)
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes or not (parts.hostname or parts.scheme in _HOSTLESS_SCHEMES):
        allowed = ", ".join(f"{scheme}://" for scheme in sorted(schemes))
        raise ImproperlyConfigured(f"{name} must be a URL starting with {allowed}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port") from None
    return value


def with_password(url: str, password: str) -> str:
    """Put `password` into a Redis URL that carries none (REDIS_PASSWORD, as before)."""
    parts = urlsplit(url)
    if not password or parts.password:
        return url
    # Split the raw netloc: the user stays as encoded, an IPv6 host keeps its brackets.
    user, _, host_and_port = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host_and_port}"))


_EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def env_email_url(name: str) -> dict[str, object] | None:
    """Django's EMAIL_* settings from one URL: smtp://user:password@host:587 (STARTTLS on 587 or with
    ?tls=true), smtps://…:465 (TLS from the start), console://, file:///path/to/dir, locmem://, dummy://.
    None when the variable is unset; a malformed value names the variable."""
    value = _raw(name)
    if not value:
        return None
    parts = urlsplit(value)
    backend = _EMAIL_BACKENDS.get(parts.scheme)
    if backend is None:
        allowed = ", ".join(f"{scheme}://" for scheme in sorted(_EMAIL_BACKENDS))
        raise ImproperlyConfigured(f"{name} must be a URL starting with {allowed}")
    email: dict[str, object] = {"EMAIL_BACKEND": backend}
    if parts.scheme == "file":
        if not parts.path:
            raise ImproperlyConfigured(f"{name} needs a directory: file:///path/to/dir")
        email["EMAIL_FILE_PATH"] = parts.path
    if parts.scheme not in {"smtp", "smtps"}:
        return email
    if not parts.hostname:
        raise ImproperlyConfigured(f"{name} needs a host: smtp://user:password@host:587")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port") from None
    options = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
    smtps = parts.scheme == "smtps" or options.get("ssl") in _TRUE
    email |= {
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if smtps else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": smtps,
        "EMAIL_USE_TLS": not smtps and (options.get("tls") in _TRUE or port == 587),
    }
    if "timeout" in options:
        try:
            email["EMAIL_TIMEOUT"] = int(options["timeout"])
        except ValueError:
            raise ImproperlyConfigured(f"{name}: timeout must be a whole number of seconds") from None
    return email
