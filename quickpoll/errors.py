class DomainError(Exception):
    """A rule said no. `code` is stable and machine-readable; `status` is the HTTP answer.

    The API answers {"code", "detail"} with `status`; pages and the admin show `message`.
    """

    code = "invalid"
    status = 400
    message = "The request is not valid."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
