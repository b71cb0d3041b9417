"""Blocking and reporting a peer, and the moderators' handling of reports."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm, Role, role_has
from rarebridge.directory.models import (
    ContactRequest,
    PeerBlock,
    PeerProfile,
    PeerReport,
)
from rarebridge.directory.services.finder import (
    PeerUnavailable,
    _close,
    _end_contacts,
    _party,
    _tell,
)
from rarebridge.directory.services.text import (
    TEXT_MAX,
    clean_text,
)


@transaction.atomic
def peer_block(*, contact: ContactRequest, by: Actor | User) -> PeerBlock:
    """Either side may block the other: the contact closes and they are never matched again."""
    mine, other, _side = _party(contact, by)
    if other is None:
        raise PeerUnavailable(_("There is nobody to block in this request yet."))
    block, _created = PeerBlock.objects.get_or_create(
        blocker=mine, blocked=other, defaults={"contact": contact}
    )
    if contact.status in ContactRequest.OPEN:
        _close(contact, status=ContactRequest.Status.CLOSED, reason=ContactRequest.Reason.BLOCKED)
    audit_log(
        action="directory.peer.blocked",
        actor=by,
        obj=contact,
        organisation_id=mine.organisation_id,
    )
    return block


@transaction.atomic
def peer_report(
    *,
    contact: ContactRequest,
    reason: str,
    details: str = "",
    by: Actor | User,
) -> PeerReport:
    """Report the other person to the moderators of their organisation. The reporter gets an
    acknowledgement at once, and hears again when a moderator picks it up and closes it."""
    mine, other, _side = _party(contact, by)
    if other is None:
        raise PeerUnavailable(_("There is nobody to report in this request yet."))
    if reason not in PeerReport.Reason.values:
        raise ValidationError({"reason": _("Choose what happened.")})
    report = PeerReport.objects.create(
        organisation_id=other.organisation_id,
        contact=contact,
        reporter=mine,
        reported=other,
        reason=reason,
        details=clean_text(details, max_length=TEXT_MAX),
    )
    _tell(
        profile=mine,
        key="peers_report_received",
        idempotency_key=f"directory.report:{report.pk}:received",
        path=reverse("peers:contact", args=[contact.pk]),
    )
    audit_log(
        action="directory.report.raised",
        actor=by,
        obj=report,
        payload={"reason": reason, "contact": contact.pk},
    )
    return report


def _require_moderator(by: Actor | User, report: PeerReport) -> None:
    user = user_of(by)
    if user is None or not any(
        a.organisation_id == report.organisation_id and role_has(Role(a.role), Perm.PEER_MODERATE)
        for a in user.active_roles()
    ):
        raise PermissionDenied


@transaction.atomic
def report_acknowledge(*, report: PeerReport, by: Actor | User) -> PeerReport:
    _require_moderator(by, report)
    report = PeerReport.objects.select_for_update().get(pk=report.pk)
    if report.status != PeerReport.Status.OPEN:
        return report
    report.status = PeerReport.Status.ACKNOWLEDGED
    report.acknowledged_at = timezone.now()
    report.acknowledged_by = user_of(by)
    report.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "updated_at"])
    _tell(
        profile=report.reporter,
        key="peers_report_acknowledged",
        idempotency_key=f"directory.report:{report.pk}:acknowledged",
        path=reverse("peers:home"),
    )
    audit_log(action="directory.report.acknowledged", actor=by, obj=report)
    return report


@transaction.atomic
def report_close(
    *,
    report: PeerReport,
    outcome: str,
    note: str,
    by: Actor | User,
) -> PeerReport:
    """Close a report with an outcome; removing the person takes them out of the finder."""
    _require_moderator(by, report)
    report = PeerReport.objects.select_for_update().get(pk=report.pk)
    if report.status == PeerReport.Status.CLOSED:
        return report
    if outcome not in PeerReport.Outcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    now = timezone.now()
    if report.acknowledged_at is None:
        report.acknowledged_at, report.acknowledged_by = now, user_of(by)
    report.status = PeerReport.Status.CLOSED
    report.closed_at, report.closed_by = now, user_of(by)
    report.outcome = outcome
    report.outcome_note = clean_text(note, max_length=TEXT_MAX)
    report.save()
    if (
        outcome == PeerReport.Outcome.CONTACT_CLOSED
        and report.contact.status in ContactRequest.OPEN
    ):
        _close(
            report.contact,
            status=ContactRequest.Status.CLOSED,
            reason=ContactRequest.Reason.MODERATED,
        )
    elif outcome == PeerReport.Outcome.REMOVED:
        reported = report.reported
        if reported.status == PeerProfile.Status.ACTIVE:
            reported.status = PeerProfile.Status.SUSPENDED
            reported.withdrawn_at = now
            reported.save(update_fields=["status", "withdrawn_at", "updated_at"])
            _end_contacts(reported, left=True, moderated=True)
    _tell(
        profile=report.reporter,
        key="peers_report_closed",
        idempotency_key=f"directory.report:{report.pk}:closed",
        path=reverse("peers:home"),
    )
    audit_log(
        action="directory.report.closed",
        actor=by,
        obj=report,
        payload={"outcome": outcome},
    )
    return report
