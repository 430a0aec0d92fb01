class ServiceError(Exception):
    """A refusal the user can act on; `field` names the form field it belongs to, if any."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


class PermissionDenied(ServiceError):
    def __init__(self, message: str, *, code: str = "permission_denied"):
        super().__init__(message, code=code)
