"""The conditions a counsellor lives with: rows of the same shape as a patient's
(``CounsellorCondition`` / ``PatientCondition``), which matching reads for both."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from rarebridge.accounts.models import User
from rarebridge.conditions.models import Condition
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.counselling.models import CounsellorCondition, CounsellorProfile


def counsellor_conditions_for(*, profile: CounsellorProfile) -> list[CounsellorCondition]:
    return list(
        CounsellorCondition.objects.filter(counsellor=profile)
        .select_related("condition")
        .order_by("pk")
    )


@transaction.atomic
def counsellor_conditions_set(
    *, profile: CounsellorProfile, conditions: Iterable[Condition], by: Actor | User | None
) -> list[CounsellorCondition]:
    """Make the counsellor's condition rows exactly ``conditions`` (the counsellor editing their
    own profile, or whoever may change the profile). Audited like every profile change."""
    wanted = {c.pk: c for c in conditions}
    rows = counsellor_conditions_for(profile=profile)
    have = {row.condition_id for row in rows}
    if have == set(wanted):
        return rows
    CounsellorCondition.objects.filter(counsellor=profile).exclude(
        condition_id__in=list(wanted)
    ).delete()
    CounsellorCondition.objects.bulk_create(
        [
            CounsellorCondition(
                organisation_id=profile.organisation_id,
                counsellor=profile,
                condition=condition,
                added_by=user_of(by),
            )
            for pk, condition in wanted.items()
            if pk not in have
        ]
    )
    audit_log(
        action="counselling.profile.changed",
        actor=by,
        obj=profile,
        payload={"fields": ["conditions"]},
    )
    return counsellor_conditions_for(profile=profile)
