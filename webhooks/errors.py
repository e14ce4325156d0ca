"""Domain errors raised by webhooks.services."""

from django.utils.translation import gettext_lazy as _

from quickpoll.errors import DomainError


class InvalidEndpoint(DomainError):
    """An endpoint's settings break a rule; `fields` says which and why."""

    code = "invalid_endpoint"
    message = _("The webhook endpoint is not valid.")

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__()
        self.fields = fields


class EndpointLimitReached(DomainError):
    code = "endpoint_limit_reached"
    status = 409
    message = _("You have as many webhook endpoints as an account may have; delete one first.")


class NotYourEndpoint(DomainError):
    # Someone else's endpoint is as good as missing: its existence is not told.
    code = "not_found"
    status = 404
    message = _("No such webhook endpoint.")


class NotRedeliverable(DomainError):
    code = "already_pending"
    status = 409
    message = _("This message is waiting to be sent already.")
