"""Secrets we hand out once and keep only as hashes: login handoffs, invitations, API tokens."""

import hashlib
import secrets


def new_secret(prefix: str = "") -> tuple[str, str]:
    """Returns (secret for the user, sha256 hex to store)."""
    secret = prefix + secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
