"""Travel and stay around a clinic visit: the plan, its journeys and its costs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.care.models import ClinicInvitation, TravelCost, TravelLeg, TravelPlan
from rarebridge.care.services._common import _record
from rarebridge.core.actor import Actor
from rarebridge.core.audit import audit_log


@transaction.atomic
def travel_plan_set(
    *,
    invitation: ClinicInvitation,
    by: Actor | User | None,
    stay: str,
    stay_name: str = "",
    nights: int = 0,
    assistance: str = "",
) -> TravelPlan:
    plan, _created = TravelPlan.objects.update_or_create(
        invitation=invitation,
        defaults={
            "organisation_id": invitation.organisation_id,
            "stay": stay,
            "stay_name": stay_name,
            "nights": nights,
            "assistance": assistance,
        },
    )
    _record(
        action="care.travel.updated",
        by=by,
        obj=plan,
        patient=invitation.patient,
        clinic=invitation.clinic.name,
    )
    return plan


def travel_leg_add(
    *,
    plan: TravelPlan,
    by: Actor | User | None,
    mode: str,
    departs_at: datetime,
    arrives_at: datetime,
    origin: str,
    destination: str,
    paid_by: str,
    booked: bool = False,
) -> TravelLeg:
    if arrives_at <= departs_at:
        raise ValidationError(_("The journey must arrive after it departs."))
    leg = TravelLeg.objects.create(
        plan=plan,
        mode=mode,
        departs_at=departs_at,
        arrives_at=arrives_at,
        origin=origin,
        destination=destination,
        paid_by=paid_by,
        booked=booked,
    )
    audit_log(
        action="care.travel.leg_added",
        actor=by,
        obj=plan,
        payload={"mode": mode, "booked": booked},
    )
    return leg


def travel_cost_add(
    *,
    plan: TravelPlan,
    by: Actor | User | None,
    what: str,
    amount: Decimal,
    currency: str = "EUR",
    status: str = "expected",
) -> TravelCost:
    cost = TravelCost.objects.create(
        plan=plan, what=what, amount=amount, currency=currency.upper(), status=status
    )
    audit_log(
        action="care.travel.cost_added",
        actor=by,
        obj=plan,
        payload={"what": what, "amount": str(amount), "status": status},
    )
    return cost


def travel_cost_status_set(*, cost: TravelCost, status: str, by: Actor | User | None) -> TravelCost:
    """Move a cost along: expected, claimed, reimbursed."""
    if status not in TravelCost.Status.values:
        raise ValidationError(_("Unknown status."))
    if cost.status != status:
        cost.status = status
        cost.save(update_fields=["status"])
        audit_log(
            action="care.travel.cost_updated",
            actor=by,
            obj=cost.plan,
            payload={"cost": cost.pk, "status": status},
        )
    return cost
