"""Staff: the queues of entries to verify (``DIRECTORY_VERIFY``; 403 without it)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from rarebridge.accounts.models import User
from rarebridge.core.access import get_for_actor
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.directory.models import (
    STALE_AFTER,
    DirectoryEntry,
)

# --- staff: verification ------------------------------------------------------------------

QUEUES = ("suggested", "stale", "verified", "rejected")


def entries_for_verifier(*, by: Actor | User, queue: str = "suggested") -> QuerySet[DirectoryEntry]:
    if not _is_verifier(by):
        raise PermissionDenied
    entries = DirectoryEntry.objects.prefetch_related("countries", "languages")
    if queue == "stale":
        cutoff = timezone.localdate() - STALE_AFTER
        return entries.filter(
            status=DirectoryEntry.Status.VERIFIED, last_verified_on__lt=cutoff
        ).order_by("last_verified_on", "pk")
    if queue in ("verified", "rejected"):
        return entries.filter(status=queue).order_by("name", "pk")
    return entries.filter(status=DirectoryEntry.Status.SUGGESTED).order_by("created_at", "pk")


def _is_verifier(by: Actor | User) -> bool:
    user = user_of(by)
    return user is not None and user_has_perm(user, Perm.DIRECTORY_VERIFY)


def entry_get_for_verifier(*, by: Actor | User, id: int) -> DirectoryEntry:
    """Any entry (404 when there is none); 403 for anyone who may not verify."""
    readable = DirectoryEntry.objects.prefetch_related(
        "conditions", "countries", "languages"
    ).select_related("verified_by", "suggested_by")
    return get_for_actor(readable, by=by, allowed=lambda _entry: _is_verifier(by), pk=id)


def queue_counts(*, by: Actor | User) -> dict[str, int]:
    return {queue: entries_for_verifier(by=by, queue=queue).count() for queue in QUEUES}
