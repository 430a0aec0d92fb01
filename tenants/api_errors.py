"""Turns service refusals into the API's error shapes: field errors, or detail + code."""

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .services.errors import PermissionDenied, ServiceError
from .services.signup import SignupInvalid

# Refusals that money (or a lapsed subscription) would lift.
PAYMENT_REQUIRED = {"balance_empty", "cap_reached", "cost_refused", "read_only"}


def exception_handler(exc, context):
    if isinstance(exc, SignupInvalid):
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ServiceError):
        if isinstance(exc, PermissionDenied):
            code = status.HTTP_403_FORBIDDEN
        elif exc.code == "not_found":
            code = status.HTTP_404_NOT_FOUND
        elif exc.code in PAYMENT_REQUIRED:
            code = status.HTTP_402_PAYMENT_REQUIRED
        elif exc.code == "pool_empty":
            code = status.HTTP_503_SERVICE_UNAVAILABLE
        else:
            code = status.HTTP_400_BAD_REQUEST
        body = {exc.field: [exc.message]} if exc.field else {"detail": exc.message, "code": exc.code}
        return Response(body, status=code)
    return drf_exception_handler(exc, context)
