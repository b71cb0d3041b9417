"""Small MFA helpers around allauth: enrolling a known secret (demo) and computing codes."""

from __future__ import annotations

import base64
import hashlib
import time

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value


def demo_totp_secret(email: str) -> str:
    """A stable base32 secret per demo address, so the README can list it. Demo only."""
    digest = hashlib.sha256(f"rarebridge-demo-totp:{email}".encode()).digest()[:20]
    return base64.b32encode(digest).decode().rstrip("=")


def totp_enrol(*, user, secret: str) -> None:
    if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        return
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)


def totp_code(secret: str, at: float | None = None) -> str:
    counter = int((at if at is not None else time.time()) // 30)
    return format_hotp_value(hotp_value(secret, counter))
