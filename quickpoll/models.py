"""The project's own table: the responses kept for Idempotency-Key retries (quickpoll.idempotency).

It lives below accounts because the mechanism serves every app's API; a caller is named by a string
("user:<id>", "anon:<anon_id>") rather than a foreign key, so this layer needs no other app.
"""

from django.db import models


def account_caller(user_id) -> str:
    """How an account is named as the caller of its requests, whichever token or API key it signs in with."""
    return f"user:{user_id}"


class IdempotencyRecordQuerySet(models.QuerySet):
    def of_account(self, user_id):
        return self.filter(caller=account_caller(user_id))


class IdempotencyRecord(models.Model):
    caller = models.CharField(max_length=80)
    key = models.CharField(max_length=255)  # the Idempotency-Key's sha256: the key itself opens the body
    # sha256 of the method, the path and the parsed body: a retry must ask for the same thing.
    fingerprint = models.CharField(max_length=64)
    # The request at work on it; None once its response is kept.
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The response's JSON as first rendered, sealed with the Idempotency-Key (quickpoll.idempotency).
    body = models.TextField(blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    objects = IdempotencyRecordQuerySet.as_manager()

    class Meta:
        constraints = [
            # Two requests racing with one key: the second's INSERT fails here and it waits for the first.
            models.UniqueConstraint(fields=["caller", "key"], name="idempotency_key_once_per_caller"),
        ]

    def __str__(self):
        return f"{self.caller} {self.key}"
