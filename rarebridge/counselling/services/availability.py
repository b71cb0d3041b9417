"""When a counsellor can take calls: weekly rules and exceptions."""

from __future__ import annotations

from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.core.actor import Actor
from rarebridge.core.audit import audit_log
from rarebridge.counselling.models import AvailabilityException, AvailabilityRule, CounsellorProfile


def availability_rule_add(
    *, counsellor: CounsellorProfile, weekday: int, start: time, end: time, by: Actor | User
) -> AvailabilityRule:
    if not 0 <= weekday <= 6 or start >= end:
        raise ValidationError(
            _("Choose a weekday and a start time before the end time."), code="invalid_rule"
        )
    with transaction.atomic():
        rule = AvailabilityRule.objects.create(
            organisation_id=counsellor.organisation_id,
            counsellor=counsellor,
            weekday=weekday,
            start=start,
            end=end,
        )
        audit_log(action="counselling.availability.added", actor=by, obj=rule)
    return rule


def availability_rule_remove(*, rule: AvailabilityRule, by: Actor | User) -> None:
    with transaction.atomic():
        audit_log(
            action="counselling.availability.removed",
            actor=by,
            obj=rule,
            payload={"weekday": rule.weekday, "start": str(rule.start), "end": str(rule.end)},
        )
        rule.delete()


def availability_exception_add(
    *,
    counsellor: CounsellorProfile,
    day: date,
    by: Actor | User,
    start: time | None = None,
    end: time | None = None,
    reason: str = "",
) -> AvailabilityException:
    if (start is None) != (end is None) or (start and end and start >= end):
        raise ValidationError(
            _("Give both times, or none for the whole day."), code="invalid_exception"
        )
    with transaction.atomic():
        row = AvailabilityException.objects.create(
            organisation_id=counsellor.organisation_id,
            counsellor=counsellor,
            day=day,
            start=start,
            end=end,
            reason=reason,
        )
        audit_log(action="counselling.availability.exception_added", actor=by, obj=row)
    return row
