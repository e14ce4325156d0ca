"""The moderation audit log: every moderator's action on a poll or an account, written once and kept.

accounts is the lowest layer both the polls services and the accounts admin write from, so the log lives here.
"""

from django.db.models import Model

from accounts.models import AuditEntry, User

Action = AuditEntry.Action


def record(*, actor: User | None, action: str, target: Model, reason: str = "", details: dict | None = None) -> AuditEntry:
    """Write one entry; the target's kind, id and label are copied, so the entry survives the target's deletion."""
    return AuditEntry.objects.create(
        actor=actor,
        actor_label=str(actor) if actor is not None else "system",
        action=action,
        target_kind=target._meta.model_name,
        target_id=str(target.pk),
        target_label=str(target)[:300],
        reason=reason.strip(),
        details=details or {},
    )
