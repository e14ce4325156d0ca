"""The project's own table: the responses kept for Idempotency-Key retries (quickpoll.idempotency).

It lives below accounts because the mechanism serves every app's API; a caller is named by a string
("user:<id>", "anon:<anon_id>") rather than a foreign key, so this layer needs no other app.
"""

from django.db import models


class IdempotencyRecord(models.Model):
    caller = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    # sha256 of the method, the path and the parsed body: a retry must ask for the same thing.
    fingerprint = models.CharField(max_length=64)
    # The request at work on it; None once its response is kept.
    claim = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.TextField(blank=True)  # the response's JSON as first rendered, in its key order
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            # Two requests racing with one key: the second's INSERT fails here and it waits for the first.
            models.UniqueConstraint(fields=["caller", "key"], name="idempotency_key_once_per_caller"),
        ]

    def __str__(self):
        return f"{self.caller} {self.key}"
