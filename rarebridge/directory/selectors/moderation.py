"""Moderators: the reports about people of their organisations (``PEER_MODERATE``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, QuerySet, Value, When

from rarebridge.accounts.models import User
from rarebridge.core.access import get_for_actor
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.permissions import Perm, Role, role_has
from rarebridge.directory.models import (
    PeerMessage,
    PeerReport,
)

# --- moderators ----------------------------------------------------------------------------


def _moderated_organisations(user: User | None) -> list[int]:
    if user is None:
        return []
    return sorted(
        {
            a.organisation_id
            for a in user.active_roles()
            if role_has(Role(a.role), Perm.PEER_MODERATE)
        }
    )


def reports_for_moderator(*, by: Actor | User) -> QuerySet[PeerReport]:
    """Reports about people of the moderator's organisations: new first, then oldest."""
    orgs = _moderated_organisations(user_of(by))
    if not orgs:
        raise PermissionDenied
    return (
        PeerReport.objects.filter(organisation_id__in=orgs)
        .select_related("reporter", "reported", "reported__patient", "acknowledged_by")
        .annotate(
            status_rank=Case(
                When(status=PeerReport.Status.OPEN, then=Value(0)),
                When(status=PeerReport.Status.ACKNOWLEDGED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("status_rank", "created_at", "pk")
    )


def report_get_for_moderator(*, by: Actor | User, id: int) -> PeerReport:
    """One report with its contact's messages. Every read is audited: it shows what two
    people wrote to each other."""
    readable = reports_for_moderator(by=by).select_related(
        "contact", "reported__patient__user", "closed_by"
    )
    return get_for_actor(readable, by=by, audit="directory.report.viewed", pk=id)


def report_messages(*, report: PeerReport) -> list[PeerMessage]:
    return list(report.contact.messages.select_related("sender"))
