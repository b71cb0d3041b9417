"""Permission-checked reads of the safety net. Views call these, never the ORM directly.

Who sees what: people who may handle alerts (supervisors) see the alerts of the patients in
their reach and may act on them; people who may raise concerns (a patient's counsellor) may
read the alerts of their patients, read-only. 404 for no access, 403 for read-only.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from rarebridge.accounts.models import RoleAssignment, User
from rarebridge.accounts.selectors import organisation_wide_ids_for, patients_for_user, site_ids_for
from rarebridge.core.access import get_for_actor
from rarebridge.core.actor import Actor
from rarebridge.core.permissions import ROLE_PERMISSIONS, Perm, Role, role_has, user_has_perm
from rarebridge.network.models import Organisation
from rarebridge.safety.models import (
    LEVEL_RANK,
    Alert,
    AlertNotification,
    OnDuty,
    Responder,
    SupervisionMeeting,
)

STATUS_RANK = {Alert.Status.OPEN: 0, Alert.Status.ACKNOWLEDGED: 1, Alert.Status.CLOSED: 2}


def _rank(field: str, ranks: dict) -> Case:
    return Case(
        *[When(**{field: key}, then=Value(rank)) for key, rank in ranks.items()],
        default=Value(len(ranks)),
        output_field=IntegerField(),
    )


def alerts_for_user(*, user: User) -> QuerySet[Alert]:
    """Alerts of the patients the person may handle: open first, most urgent first, then the
    longest waiting."""
    if not user_has_perm(user, Perm.ALERT_HANDLE):
        raise PermissionDenied
    return (
        Alert.objects.filter(_handled(user))
        .select_related("patient", "patient__site", "patient__country", "acknowledged_by")
        .annotate(status_rank=_rank("status", STATUS_RANK), level_rank=_rank("level", LEVEL_RANK))
        .order_by("status_rank", "level_rank", "created_at", "pk")
    )


def _handled(user: User) -> Q:
    """Alerts the person may handle: those about patients of the sites they reach with
    ALERT_HANDLE, and any alert their escalation chain told them about (the chain may reach
    beyond the site when nobody there answers: whoever is told can act on it)."""
    if not user_has_perm(user, Perm.ALERT_HANDLE):
        return Q(pk__in=[])
    reach = patients_for_user(user=user, perm=Perm.ALERT_HANDLE).values("pk")
    told = AlertNotification.objects.filter(recipient=user).values("alert_id")
    return Q(patient_id__in=reach) | Q(pk__in=told)


def alert_can_handle(*, user: User, alert: Alert) -> bool:
    return Alert.objects.filter(_handled(user), pk=alert.pk).exists()


def alert_get_for_user(
    *, user: User, id: int, need: Perm | None = None, by: Actor | User | None = None
) -> Alert:
    """One alert with its concern and patient. ``need=Perm.ALERT_HANDLE`` to act on it.

    The page names the patient, so every successful read is written to the audit log (as
    ``by``, the person with their address, when given; else ``user``).
    """
    read = patients_for_user(user=user, perm=Perm.CONCERN_RAISE).values("pk")
    readable = Alert.objects.filter(_handled(user) | Q(patient_id__in=read)).select_related(
        "concern",
        "concern__raised_by",
        "patient",
        "patient__user",
        "patient__site",
        "patient__country",
        "acknowledged_by",
        "closed_by",
    )
    return get_for_actor(
        readable,
        by=by if by is not None else user,
        allowed=lambda alert: (
            need is None or (need == Perm.ALERT_HANDLE and alert_can_handle(user=user, alert=alert))
        ),
        audit="safety.alert.viewed",
        payload={"need": str(need or "read")},
        pk=id,
    )


def alert_notifications(*, alert: Alert) -> QuerySet[AlertNotification]:
    """Who was told, at which step and when (for an alert already fetched with a check)."""
    return AlertNotification.objects.filter(alert=alert).select_related("recipient")


def _supervision_organisation_ids(user: User) -> list[int]:
    return sorted(
        {
            a.organisation_id
            for a in user.active_roles()
            if role_has(Role(a.role), Perm.SUPERVISION_VIEW)
        }
    )


def supervision_meetings_for_user(*, user: User) -> QuerySet[SupervisionMeeting]:
    org_ids = _supervision_organisation_ids(user)
    if not org_ids:
        raise PermissionDenied
    return (
        SupervisionMeeting.objects.filter(organisation_id__in=org_ids)
        .select_related("supervisor")
        .prefetch_related("attendance__counsellor")
    )


def supervision_organisation_for_user(*, user: User) -> Organisation:
    """The organisation a supervisor records meetings for (their first one)."""
    org_ids = _supervision_organisation_ids(user)
    if not org_ids:
        raise PermissionDenied
    return Organisation.objects.get(pk=org_ids[0])


def supervision_counsellors_for_user(*, user: User) -> QuerySet[User]:
    """People who may attend supervision at the sites the person supervises (every one of an
    organisation they supervise as a whole)."""
    roles = [r.value for r in Role if role_has(r, Perm.SUPERVISION_ATTEND)]
    attending = RoleAssignment.objects.filter(is_active=True, role__in=roles).filter(
        Q(site_id__in=site_ids_for(user, Perm.SUPERVISION_VIEW))
        | Q(organisation_id__in=organisation_wide_ids_for(user, Perm.SUPERVISION_VIEW))
    )
    return User.objects.filter(is_active=True, pk__in=attending.values("user_id")).order_by(
        "full_name", "pk"
    )


def open_alerts_for_counsellor(*, user: User) -> QuerySet[Alert]:
    """Open alerts about the counsellor's own patients (they follow them, others handle them)."""
    reach = patients_for_user(user=user, perm=Perm.PATIENT_VIEW).values("pk")
    return (
        Alert.objects.filter(patient_id__in=reach)
        .exclude(status=Alert.Status.CLOSED)
        .select_related("patient")
        .order_by("created_at")
    )


def escalation_setup_for_user(*, user: User) -> dict:
    """The responders and the on-duty rota of the supervisor's organisation."""
    if not user_has_perm(user, Perm.SUPERVISION_VIEW):
        raise PermissionDenied
    orgs = user.organisation_ids
    return {
        "responders": Responder.objects.filter(organisation_id__in=orgs)
        .select_related("user", "country", "site")
        .order_by("country_id", "site_id", "order"),
        "rota": OnDuty.objects.filter(organisation_id__in=orgs, ends_at__gte=timezone.now())
        .select_related("user", "country", "site")
        .order_by("starts_at"),
    }


def supervision_handlers_for_user(*, user: User) -> QuerySet[User]:
    """People of the supervisor's organisations who may handle alerts (for the rota)."""
    if not user_has_perm(user, Perm.SUPERVISION_VIEW):
        raise PermissionDenied
    roles = [str(role) for role, perms in ROLE_PERMISSIONS.items() if Perm.ALERT_HANDLE in perms]
    return (
        User.objects.filter(
            role_assignments__organisation_id__in=user.organisation_ids,
            role_assignments__role__in=roles,
            role_assignments__is_active=True,
        )
        .distinct()
        .order_by("full_name")
    )
