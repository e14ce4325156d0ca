"""A user's own data, gathered from every app, for "Download my data" (settings page and API alike).

accounts sits below the apps that keep rows about what a user did, so it never imports them:
each registers, from its AppConfig.ready(), a section and how to collect it (polls: polls
authored, ballots, likes, reports).
"""

import json
from typing import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from accounts.mail import NOTIFICATION_KINDS
from accounts.models import Notification, User
from accounts.two_factor import two_factor_enabled

_sections: dict[str, Callable[[User], object]] = {}


def personal_data_section(name: str, collect: Callable[[User], object]) -> None:
    """Have `collect(user)` fill the export's `name` section: plain data, dates and ids as they come."""
    _sections[name] = collect


def _account(user: User) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "is_verified": user.is_verified,
        "pending_email": user.pending_email,
        "email_preferences": {kind: getattr(user, field) for kind, field in NOTIFICATION_KINDS.items()},
        "digest_sent_at": user.digest_sent_at,
        "display_name": user.display_name,
        "bio": user.bio,
        "avatar": user.avatar.name or None,
        "is_staff": user.is_staff,
        "time_zone": user.time_zone,
        # Whether it is on, never the secret or the recovery codes: a leaked export must not sign anyone in.
        "two_factor_enabled": two_factor_enabled(user),
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_login": user.last_login,
    }


def _notifications(user: User) -> list[dict]:
    return [
        {
            "kind": kind,
            "poll_id": poll_id,
            "message": payload.get("message", ""),
            "created_at": created_at,
            "read_at": read_at,
        }
        for kind, poll_id, payload, created_at, read_at in Notification.objects.filter(recipient=user)
        .order_by("created_at")
        .values_list("kind", "poll_id", "payload", "created_at", "read_at")
    ]


def export_personal_data(*, user: User) -> dict:
    """Everything QuickPoll keeps about `user`, as JSON-ready data (dates in ISO 8601, ids as strings)."""
    data = {"exported_at": timezone.now(), "account": _account(user), "notifications": _notifications(user)}
    for name, collect in _sections.items():
        data[name] = collect(user)
    # One encoding for the API and the page's download, whichever renderer sends it.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))
