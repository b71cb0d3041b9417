"""Supervision meetings: who was invited and who attended."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm, role_has
from rarebridge.network.models import Organisation
from rarebridge.safety.models import SupervisionAttendance, SupervisionMeeting
from rarebridge.safety.services.chain import _roles_with, _unique

# --- supervision --------------------------------------------------------------------------


def supervision_meeting_record(
    *,
    organisation: Organisation,
    by: Actor | User,
    kind: SupervisionMeeting.Kind | str,
    held_at: datetime,
    topic: str,
    notes: str,
    participants: list[User],
    present: list[User],
) -> SupervisionMeeting:
    """Record a meeting ``by`` held, with who was invited and who attended."""
    kind = SupervisionMeeting.Kind(kind)
    supervisor = user_of(by)
    if supervisor is None or not any(
        a.organisation_id == organisation.pk and role_has(a.role, Perm.SUPERVISION_VIEW)
        for a in supervisor.active_roles()
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
            supervisor=supervisor,
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
        )
    return meeting
