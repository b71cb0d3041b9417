"""Concerns and alerts: raising, telling, escalating, acknowledging and closing.

A concern always becomes an alert, and an alert is told to a person at once. Nobody
acknowledging it within ``settings.SAFETY_ACK_MINUTES[level]`` moves it one step down the
chain (``alerts_escalate_due``, a periodic job); past the end of the chain the whole chain is
told again every period until someone acknowledges.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.accounts.selectors import patients_for_user
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm
from rarebridge.notify.models import Channel
from rarebridge.notify.services import message_send
from rarebridge.safety.models import Alert, AlertNotification, Concern, Level
from rarebridge.safety.selectors import alert_can_handle
from rarebridge.safety.services.chain import _unique, escalation_chain

logger = logging.getLogger(__name__)

ALERT_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.IN_APP)
OBSERVED_MAX_LENGTH = 4000
ESCALATE_BATCH = 500


def _ack_period(level: str) -> timedelta:
    return timedelta(minutes=settings.SAFETY_ACK_MINUTES[level])


def _users_in_order(ids: list[int]) -> list[User]:
    """The people with these ids who are still active, in the order given."""
    by_id = User.objects.filter(pk__in=ids, is_active=True).in_bulk()
    return _unique(by_id.get(pk) for pk in ids)


def _notify(*, alert: Alert, recipients: list[User], step: int, template_key: str) -> list[User]:
    """Tell each person once for this step, on every channel they can receive.

    The AlertNotification row and the message idempotency keys both make a repeat a no-op,
    so a crashed or concurrent run never tells anyone twice for the same step.
    """
    patient = alert.patient
    context = {
        "code": patient.code,
        "level": Level(alert.level).label,
        "site": patient.site.name,
        "country": patient.country.name,
        "emergency_number": patient.country.emergency_number,
        "link": reverse("safety:alert_detail", args=[alert.pk]),
        "raised_at": alert.created_at,
        "due_at": alert.due_at,
        "step": step,
        "ack_minutes": settings.SAFETY_ACK_MINUTES[alert.level],
        "exhausted": alert.chain_exhausted_at is not None,
    }
    told = []
    for person in recipients:
        _row, created = AlertNotification.objects.get_or_create(
            alert=alert,
            recipient=person,
            step=step,
            defaults={"organisation_id": alert.organisation_id},
        )
        if not created:
            continue
        message_send(
            recipient=person,
            template_key=template_key,
            context=context,
            idempotency_key=f"safety.alert:{alert.pk}:step:{step}:to:{person.pk}",
            channels=ALERT_CHANNELS,
        )
        told.append(person)
    if told:
        audit_log(
            action="safety.alert.notified",
            obj=alert,
            payload={"step": step, "to": [p.pk for p in told], "template": template_key},
        )
    return told


# --- concerns and alerts -----------------------------------------------------------------


def concern_raise(
    *,
    patient: PatientProfile,
    level: Level | str,
    observed: str,
    by: Actor | User | None,
    source: Concern.Source | str = Concern.Source.PERSON,
) -> Concern:
    """Record a concern and alert the first person of the patient's escalation chain.

    People raise concerns about patients in their reach; the system (a questionnaire answer)
    raises them with ``source="questionnaire", by=None``.
    """
    level = Level(level)
    source = Concern.Source(source)
    observed = (observed or "").strip()
    if not observed:
        raise ValidationError({"observed": _("Please describe what you observed.")})
    if len(observed) > OBSERVED_MAX_LENGTH:
        raise ValidationError({"observed": _("Please keep the description shorter.")})
    person = user_of(by)
    if source == Concern.Source.PERSON and person is None:
        raise ValueError("A concern raised by a person needs `by`.")
    if (
        person is not None
        and not patients_for_user(user=person, perm=Perm.CONCERN_RAISE)
        .filter(pk=patient.pk)
        .exists()
    ):
        raise PermissionDenied
    with transaction.atomic():
        concern = Concern.objects.create(
            organisation_id=patient.organisation_id,
            patient=patient,
            level=level,
            observed=observed,
            source=source,
            raised_by=person,
        )
        # What was observed stays out of the log: it is personal and lives on the concern.
        audit_log(
            action="safety.concern.raised",
            actor=by,
            obj=concern,
            payload={"level": str(level), "source": str(source), "patient": patient.pk},
        )
        _alert_open(concern=concern, by=by)
    return concern


def _alert_open(*, concern: Concern, by: Actor | User | None) -> Alert:
    now = timezone.now()
    patient = (
        PatientProfile.objects.select_related("site", "country").filter(pk=concern.patient_id).get()
    )
    chain = escalation_chain(site=patient.site, at=now)
    # Whoever raised it knows already; they are told only when nobody else can be.
    raiser = user_of(by)
    people = [p for p in chain.people if p != raiser] or chain.people
    clinicians = [p for p in chain.clinicians if p != raiser] or chain.clinicians
    alert = Alert.objects.create(
        organisation_id=concern.organisation_id,
        concern=concern,
        patient=patient,
        level=concern.level,
        chain=[p.pk for p in people],
        clinicians=[p.pk for p in clinicians],
        step=0,
        due_at=now + _ack_period(concern.level),
    )
    audit_log(
        action="safety.alert.raised",
        actor=by,
        obj=alert,
        payload={"concern": concern.pk, "level": concern.level, "chain": alert.chain},
    )
    if not people:
        _flag_unrouted(alert=alert, now=now)
        return alert
    # Immediate danger reaches everyone in the chain and the site's clinicians at once;
    # other levels start with the first person and escalate on the deadline.
    first = [*people, *clinicians] if concern.level == "immediate" else people[:1]
    _notify(alert=alert, recipients=list(dict.fromkeys(first)), step=0, template_key="alert_raised")
    return alert


def _flag_unrouted(*, alert: Alert, now: datetime) -> None:
    """Nobody may handle alerts for this site: flag it loudly; the next run tries again."""
    Alert.objects.filter(pk=alert.pk, chain_exhausted_at__isnull=True).update(
        chain_exhausted_at=now, updated_at=now
    )
    alert.chain_exhausted_at = alert.chain_exhausted_at or now
    logger.error("Safety alert %s has nobody to tell: configure responders.", alert.pk)
    audit_log(action="safety.alert.unrouted", obj=alert, payload={"step": alert.step})


def alerts_escalate_due() -> int:
    """Escalate every open alert whose acknowledgement deadline has passed, one step each.

    Idempotent and safe to run concurrently: each alert is locked and re-read, and the step
    moves with a conditional update, so two runs never escalate the same step twice.
    """
    # A periodic job acts for every organisation; the runner also disables scopes.
    with scopes_disabled():
        now = timezone.now()
        due = list(
            Alert.objects.filter(status=Alert.Status.OPEN, due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", flat=True)[:ESCALATE_BATCH]
        )
        escalated = 0
        for pk in due:
            try:
                escalated += _alert_escalate(alert_id=pk, now=now)
            except Exception:  # one broken alert must not hold back the others
                logger.exception("Escalating safety alert %s failed", pk)
        return escalated


def _alert_escalate(*, alert_id: int, now: datetime) -> bool:
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update(of=("self",))
            .select_related("patient", "patient__site", "patient__country")
            .filter(pk=alert_id)
            .first()
        )
        if alert is None or alert.status != Alert.Status.OPEN:
            return False
        if alert.due_at is None or alert.due_at > now:
            return False
        chain_ids = list(alert.chain)
        clinician_ids = list(alert.clinicians)
        if not chain_ids:
            # Nobody could be told when it was raised; someone may have been added since.
            fresh = escalation_chain(site=alert.patient.site, at=now)
            chain_ids = [p.pk for p in fresh.people]
            clinician_ids = [p.pk for p in fresh.clinicians]
        step = alert.step + 1
        exhausted = step >= len(chain_ids)
        # The next person and the site's clinicians; past the end, everybody, every period.
        to_ids = chain_ids if exhausted else [chain_ids[step], *clinician_ids]
        exhausted_at = alert.chain_exhausted_at
        if exhausted and exhausted_at is None and chain_ids:
            exhausted_at = now
        moved = Alert.objects.filter(pk=alert.pk, status=Alert.Status.OPEN, step=alert.step).update(
            step=step,
            chain=chain_ids,
            clinicians=clinician_ids,
            due_at=now + _ack_period(alert.level),
            chain_exhausted_at=exhausted_at,
            updated_at=now,
        )
        if not moved:
            return False  # another run got here first
        alert.step, alert.chain, alert.clinicians = step, chain_ids, clinician_ids
        alert.due_at = now + _ack_period(alert.level)
        alert.chain_exhausted_at = exhausted_at
        audit_log(
            action="safety.alert.escalated",
            obj=alert,
            payload={"step": step, "to": to_ids, "chain_exhausted": exhausted},
        )
        if exhausted_at == now:
            audit_log(action="safety.alert.chain_exhausted", obj=alert, payload={"step": step})
        recipients = _users_in_order(to_ids)
        if not recipients:
            _flag_unrouted(alert=alert, now=now)
            return True
        _notify(alert=alert, recipients=recipients, step=step, template_key="alert_escalated")
    return True


def _require_handler(*, user: User, alert: Alert) -> None:
    if user is None or not alert_can_handle(user=user, alert=alert):
        raise PermissionDenied


def alert_acknowledge(*, alert: Alert, by: Actor | User) -> Alert:
    """Someone has taken the alert on: escalation stops. Acknowledging twice changes nothing."""
    person = user_of(by)
    _require_handler(user=person, alert=alert)
    with transaction.atomic():
        now = timezone.now()
        taken = Alert.objects.filter(pk=alert.pk, status=Alert.Status.OPEN).update(
            status=Alert.Status.ACKNOWLEDGED,
            acknowledged_at=now,
            acknowledged_by=person,
            due_at=None,
            updated_at=now,
        )
        alert.refresh_from_db()
        if taken:
            audit_log(
                action="safety.alert.acknowledged",
                actor=by,
                obj=alert,
                payload={
                    "step": alert.step,
                    "waited_seconds": int((now - alert.created_at).total_seconds()),
                },
            )
    return alert


def alert_close(
    *,
    alert: Alert,
    by: Actor | User,
    outcome: Alert.Outcome | str,
    note: str,
) -> Alert:
    """Record what was done and close the alert; closing an open alert acknowledges it too."""
    person = user_of(by)
    _require_handler(user=person, alert=alert)
    outcome = Alert.Outcome(outcome)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Please write what was done.")})
    with transaction.atomic():
        now = timezone.now()
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status == Alert.Status.CLOSED:
            raise ValidationError(_("This alert is already closed."), code="closed")
        if locked.status == Alert.Status.OPEN:
            locked.acknowledged_at = now
            locked.acknowledged_by = person
            audit_log(
                action="safety.alert.acknowledged",
                actor=by,
                obj=locked,
                payload={"step": locked.step, "on_close": True},
            )
        locked.status = Alert.Status.CLOSED
        locked.closed_at = now
        locked.closed_by = person
        locked.outcome = outcome
        locked.outcome_note = note
        locked.due_at = None
        locked.save(
            update_fields=[
                "status",
                "acknowledged_at",
                "acknowledged_by",
                "closed_at",
                "closed_by",
                "outcome",
                "outcome_note",
                "due_at",
                "updated_at",
            ]
        )
        # The note is personal; the log names the outcome only.
        audit_log(
            action="safety.alert.closed",
            actor=by,
            obj=locked,
            payload={"outcome": str(outcome)},
        )
    alert.refresh_from_db()
    return alert
