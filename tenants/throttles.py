"""Brute-force brakes, counted in Redis (shared by every web process)."""

from rest_framework.throttling import SimpleRateThrottle


class _EmailThrottle(SimpleRateThrottle):
    """Limits attempts per target account, whatever address they come from."""

    def get_cache_key(self, request, view):
        email = str(request.data.get("email", "")).strip().lower()
        if not email:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"{request.get_host()}:{email}"}


class _IpThrottle(SimpleRateThrottle):
    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginEmailThrottle(_EmailThrottle):
    scope = "login"


class LoginIpThrottle(_IpThrottle):
    scope = "login_ip"


class PasswordResetThrottle(_EmailThrottle):
    scope = "password_reset"


class SignupThrottle(_IpThrottle):
    scope = "signup"
