"""Writing the audit log. Services call ``audit_log``; nothing else writes entries."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from rarebridge.core.models import AuditEntry


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR is the proxy in production; the proxy must set X-Forwarded-For.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def audit_log(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    organisation_id: int | None = None,
    payload: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEntry:
    """Append one entry. ``action`` is a dotted code such as ``accounts.invitation.sent``."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if organisation_id is None and obj is not None:
        organisation_id = getattr(obj, "organisation_id", None)
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        actor_label=str(actor) if actor is not None else "system",
        organisation_id=organisation_id,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_label=str(obj)[:255] if obj is not None else "",
        payload=payload or {},
        ip_address=client_ip(request),
    )
