from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class DomainError(Exception):
    """A rule said no. `code` is stable and machine-readable; `status` is the HTTP answer.

    The API answers {"code", "detail"} with `status` and `headers`; pages and the admin show `message`.
    """

    code = "invalid"
    status = 400
    message = _("The request is not valid.")

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message

    @property
    def headers(self) -> dict[str, str]:
        return {}


class RateLimited(DomainError):
    """A rate limit's budget is spent (quickpoll.ratelimits): `retry_after` seconds until it starts afresh."""

    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int):
        super().__init__(
            ngettext(
                "Too many requests; try again in %(seconds)d second.",
                "Too many requests; try again in %(seconds)d seconds.",
                retry_after,
            )
            % {"seconds": retry_after}
        )
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


# Safe retries (quickpoll.idempotency)


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    message = _("An Idempotency-Key is 8 to 255 visible ASCII characters, such as a UUID.")


class AnonIdRequired(DomainError):
    code = "anon_id_required"
    message = _("Send your X-Anon-Id with an Idempotency-Key: keys are kept per voter.")


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422
    message = _("This Idempotency-Key was used for a different request; use a new key for a new request.")


class IdempotencyKeyInFlight(DomainError):
    code = "idempotency_key_in_flight"
    status = 409
    message = _("A request with this Idempotency-Key is still being handled; try again in a moment.")

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}
