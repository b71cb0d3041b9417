"""Writing the audit log. Services call ``audit_log``; nothing else writes entries."""

from __future__ import annotations

from typing import Any

from django.db import models

from rarebridge.core.actor import Actor, as_actor, client_ip
from rarebridge.core.models import AuditEntry

__all__ = ["audit_log", "client_ip"]


def audit_log(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    organisation_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. ``action`` is a dotted code such as ``accounts.invitation.sent``.

    ``actor`` is an :class:`Actor` (or a user, or None for the system); the person, their
    address and the request id all come from it, so every entry carries the same fields.
    """
    who: Actor = as_actor(actor)
    if organisation_id is None and obj is not None:
        organisation_id = getattr(obj, "organisation_id", None)
    if organisation_id is None:
        organisation_id = who.organisation_id
    return AuditEntry.objects.create(
        action=action,
        actor=who.user,
        actor_label=str(who)[:255],
        organisation_id=organisation_id,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_label=str(obj)[:255] if obj is not None else "",
        payload=payload or {},
        ip_address=who.ip,
        request_id=who.request_id,
    )
