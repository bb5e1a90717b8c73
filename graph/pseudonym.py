"""Keyed pseudonyms: raw shopper ids never reach the database, yet stay joinable."""

from __future__ import annotations

import hashlib
import hmac


def pseudonymise(user_id: str, key: bytes) -> str:
    if not key:
        raise ValueError("pseudonym key must not be empty")
    digest = hmac.new(key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"u_{digest[:32]}"
