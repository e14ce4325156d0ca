class ServiceErrorsMixin:
    """Shows a domain error's `fields` (InvalidPoll, InvalidAccount) beside the form's own fields."""

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        for field, messages in fields.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
