"""Calendar feed tokens: only their hash is stored; the feed and the services both hash."""

from __future__ import annotations

import hashlib


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
