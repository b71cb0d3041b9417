"""Every write of the safety net: concerns, alerts, escalation, supervision.

A concern always becomes an alert, and an alert is told to a person at once. Nobody
acknowledging it within ``settings.SAFETY_ACK_MINUTES[level]`` moves it one step down the
chain (``alerts_escalate_due``, a periodic job); past the end of the chain the whole chain is
told again every period until someone acknowledges.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from rarebridge.accounts.models import PatientProfile, RoleAssignment, User
from rarebridge.accounts.selectors import patients_for_user
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm, Role, role_has
from rarebridge.network.models import Country, Organisation, Site
from rarebridge.notify.models import Channel
from rarebridge.notify.services import message_send
from rarebridge.safety.models import (
    Alert,
    AlertNotification,
    Concern,
    Level,
    OnDuty,
    Responder,
    SupervisionAttendance,
    SupervisionMeeting,
)

logger = logging.getLogger(__name__)

ALERT_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.IN_APP)
OBSERVED_MAX_LENGTH = 4000
ESCALATE_BATCH = 500


# --- who is told ------------------------------------------------------------------------


@dataclass(frozen=True)
class Chain:
    """The people told about an alert, in order (on duty first), and the site's clinicians."""

    people: list[User]
    clinicians: list[User]


def _roles_with(perm: Perm) -> list[str]:
    return [role.value for role in Role if role_has(role, perm)]


def _handlers(organisation_id: int):
    """People who may receive and handle alerts in the organisation, as it is now."""
    return User.objects.filter(
        is_active=True,
        role_assignments__is_active=True,
        role_assignments__organisation_id=organisation_id,
        role_assignments__role__in=_roles_with(Perm.ALERT_HANDLE),
    ).distinct()


def _unique(users) -> list[User]:
    seen: set[int] = set()
    result = []
    for user in users:
        if user is not None and user.pk not in seen:
            seen.add(user.pk)
            result.append(user)
    return result


def _country_supervisors_by_role(site: Site, handler_ids: set[int]) -> list[User]:
    """Without configured responders: the handlers placed in the site's country, then the
    organisation-wide ones, so that a new deployment is never without a safety net."""
    assignments = RoleAssignment.objects.filter(
        is_active=True,
        organisation_id=site.organisation_id,
        role__in=_roles_with(Perm.ALERT_HANDLE),
        user_id__in=handler_ids,
    ).select_related("user")
    in_country = assignments.filter(site__country_id=site.country_id).order_by("user__pk")
    people = _unique(a.user for a in in_country)
    if not people:
        people = _unique(a.user for a in assignments.filter(site__isnull=True).order_by("user__pk"))
    if not people:
        people = _unique(a.user for a in assignments.order_by("user__pk"))
    return people


def on_duty_for_site(*, site: Site, at: datetime) -> User | None:
    """Who is on duty for the site at ``at``: a rota entry for the site wins over the country's."""
    periods = (
        OnDuty.objects.filter(
            organisation_id=site.organisation_id, starts_at__lte=at, ends_at__gt=at
        )
        .filter(Q(site=site) | Q(country_id=site.country_id, site__isnull=True))
        .select_related("user")
    )
    handler_ids = set(_handlers(site.organisation_id).values_list("pk", flat=True))
    rows = [r for r in periods if r.user_id in handler_ids]
    rows.sort(key=lambda r: (r.site_id is None, -r.starts_at.timestamp(), r.pk))
    return rows[0].user if rows else None


def escalation_chain(*, site: Site, at: datetime | None = None) -> Chain:
    """The chain of a site at ``at``: on duty first, the country's supervisors, the site's
    responsible clinicians last. Only people who may still handle alerts are in it."""
    at = at or timezone.now()
    handler_ids = set(_handlers(site.organisation_id).values_list("pk", flat=True))
    rows = [
        r
        for r in Responder.objects.filter(organisation_id=site.organisation_id)
        .filter(Q(country_id=site.country_id, site__isnull=True) | Q(site=site))
        .select_related("user")
        if r.user_id in handler_ids
    ]
    rows.sort(key=lambda r: (r.is_clinician, r.site_id is not None, r.order, r.pk))
    supervisors = [r.user for r in rows if not r.is_clinician]
    clinicians = _unique(r.user for r in rows if r.is_clinician)
    if not supervisors:
        supervisors = _country_supervisors_by_role(site, handler_ids)
    people = _unique([on_duty_for_site(site=site, at=at), *supervisors, *clinicians])
    return Chain(people=people, clinicians=clinicians)


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
    by: User | None,
    source: Concern.Source | str = Concern.Source.PERSON,
    request: HttpRequest | None = None,
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
    if source == Concern.Source.PERSON and by is None:
        raise ValueError("A concern raised by a person needs `by`.")
    if (
        by is not None
        and not patients_for_user(user=by, perm=Perm.CONCERN_RAISE).filter(pk=patient.pk).exists()
    ):
        raise PermissionDenied
    with transaction.atomic():
        concern = Concern.objects.create(
            organisation_id=patient.organisation_id,
            patient=patient,
            level=level,
            observed=observed,
            source=source,
            raised_by=by,
        )
        # What was observed stays out of the log: it is personal and lives on the concern.
        audit_log(
            action="safety.concern.raised",
            actor=by,
            obj=concern,
            payload={"level": str(level), "source": str(source), "patient": patient.pk},
            request=request,
        )
        _alert_open(concern=concern, by=by, request=request)
    return concern


def _alert_open(*, concern: Concern, by: User | None, request: HttpRequest | None) -> Alert:
    now = timezone.now()
    patient = (
        PatientProfile.objects.select_related("site", "country").filter(pk=concern.patient_id).get()
    )
    chain = escalation_chain(site=patient.site, at=now)
    # Whoever raised it knows already; they are told only when nobody else can be.
    people = [p for p in chain.people if p != by] or chain.people
    clinicians = [p for p in chain.clinicians if p != by] or chain.clinicians
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
        request=request,
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
    if (
        not patients_for_user(user=user, perm=Perm.ALERT_HANDLE)
        .filter(pk=alert.patient_id)
        .exists()
    ):
        raise PermissionDenied


def alert_acknowledge(*, alert: Alert, by: User, request: HttpRequest | None = None) -> Alert:
    """Someone has taken the alert on: escalation stops. Acknowledging twice changes nothing."""
    _require_handler(user=by, alert=alert)
    with transaction.atomic():
        now = timezone.now()
        taken = Alert.objects.filter(pk=alert.pk, status=Alert.Status.OPEN).update(
            status=Alert.Status.ACKNOWLEDGED,
            acknowledged_at=now,
            acknowledged_by=by,
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
                request=request,
            )
    return alert


def alert_close(
    *,
    alert: Alert,
    by: User,
    outcome: Alert.Outcome | str,
    note: str,
    request: HttpRequest | None = None,
) -> Alert:
    """Record what was done and close the alert; closing an open alert acknowledges it too."""
    _require_handler(user=by, alert=alert)
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
            locked.acknowledged_by = by
            audit_log(
                action="safety.alert.acknowledged",
                actor=by,
                obj=locked,
                payload={"step": locked.step, "on_close": True},
                request=request,
            )
        locked.status = Alert.Status.CLOSED
        locked.closed_at = now
        locked.closed_by = by
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
            request=request,
        )
    alert.refresh_from_db()
    return alert


# --- chain and rota configuration ---------------------------------------------------------


def _check_handler(*, organisation: Organisation, user: User) -> None:
    if not _handlers(organisation.pk).filter(pk=user.pk).exists():
        raise ValidationError(
            _("This person cannot receive alerts: give them a supervisor role first."),
            code="not_a_handler",
        )


def _check_place(*, organisation: Organisation, country: Country | None, site: Site | None) -> None:
    if (country is None) == (site is None):
        raise ValueError("Give a country or a site, not both.")
    if site is not None and site.organisation_id != organisation.pk:
        raise ValidationError(_("The site belongs to another organisation."), code="site_mismatch")


def responder_add(
    *,
    organisation: Organisation,
    user: User,
    by: User | None,
    country: Country | None = None,
    site: Site | None = None,
    order: int = 0,
    is_clinician: bool = False,
) -> Responder:
    """Put a person in the escalation chain of a country, or of one site (clinicians)."""
    _check_place(organisation=organisation, country=country, site=site)
    _check_handler(organisation=organisation, user=user)
    with transaction.atomic():
        responder = Responder.objects.create(
            organisation=organisation,
            country=country,
            site=site,
            user=user,
            order=order,
            is_clinician=is_clinician,
        )
        audit_log(
            action="safety.responder.added",
            actor=by,
            obj=responder,
            payload={
                "user": user.pk,
                "country": country.pk if country else None,
                "site": site.pk if site else None,
                "order": order,
                "is_clinician": is_clinician,
            },
        )
    return responder


def on_duty_add(
    *,
    organisation: Organisation,
    user: User,
    starts_at: datetime,
    ends_at: datetime,
    by: User | None,
    country: Country | None = None,
    site: Site | None = None,
) -> OnDuty:
    """Put a person on duty for a country or a site between two times."""
    _check_place(organisation=organisation, country=country, site=site)
    _check_handler(organisation=organisation, user=user)
    if ends_at <= starts_at:
        raise ValidationError(_("The end must come after the start."), code="order")
    with transaction.atomic():
        period = OnDuty.objects.create(
            organisation=organisation,
            country=country,
            site=site,
            user=user,
            starts_at=starts_at,
            ends_at=ends_at,
        )
        audit_log(
            action="safety.on_duty.added",
            actor=by,
            obj=period,
            payload={
                "user": user.pk,
                "country": country.pk if country else None,
                "site": site.pk if site else None,
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
            },
        )
    return period


# --- supervision --------------------------------------------------------------------------


def supervision_meeting_record(
    *,
    organisation: Organisation,
    by: User,
    kind: SupervisionMeeting.Kind | str,
    held_at: datetime,
    topic: str,
    notes: str,
    participants: list[User],
    present: list[User],
    request: HttpRequest | None = None,
) -> SupervisionMeeting:
    """Record a meeting ``by`` held, with who was invited and who attended."""
    kind = SupervisionMeeting.Kind(kind)
    if not any(
        a.organisation_id == organisation.pk and role_has(a.role, Perm.SUPERVISION_VIEW)
        for a in by.active_roles()
    ):
        raise PermissionDenied
    participants = _unique(participants)
    allowed = set(
        User.objects.filter(
            pk__in=[p.pk for p in participants],
            role_assignments__is_active=True,
            role_assignments__organisation_id=organisation.pk,
            role_assignments__role__in=_roles_with(Perm.SUPERVISION_ATTEND),
        ).values_list("pk", flat=True)
    )
    errors: dict[str, str] = {}
    if not participants:
        errors["participants"] = _("Choose who the meeting was for.")
    elif any(p.pk not in allowed for p in participants):
        errors["participants"] = _("Choose counsellors of your organisation.")
    elif kind == SupervisionMeeting.Kind.INDIVIDUAL and len(participants) != 1:
        errors["participants"] = _("An individual meeting is with exactly one counsellor.")
    present_ids = {p.pk for p in present}
    if present_ids - {p.pk for p in participants}:
        errors["present"] = _("Only people the meeting was for can be marked present.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        meeting = SupervisionMeeting.objects.create(
            organisation=organisation,
            kind=kind,
            held_at=held_at,
            supervisor=by,
            topic=topic.strip(),
            notes=notes.strip(),
        )
        SupervisionAttendance.objects.bulk_create(
            SupervisionAttendance(
                organisation=organisation,
                meeting=meeting,
                counsellor=person,
                present=person.pk in present_ids,
            )
            for person in participants
        )
        audit_log(
            action="safety.supervision.recorded",
            actor=by,
            obj=meeting,
            payload={
                "kind": str(kind),
                "participants": [p.pk for p in participants],
                "present": sorted(present_ids),
            },
            request=request,
        )
    return meeting
