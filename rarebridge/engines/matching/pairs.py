"""One patient and one counsellor: hard constraints, points, and the reasons for both.

The solver calls the fast functions (``language_shared``, ``requirements_missed``,
``preference_points``) millions of times; reasons are built only for the pairs a person will
read. Tests check that the reasons' points add up to the fast score, so the two cannot drift.
"""

from __future__ import annotations

from .model import (
    CallPlan,
    Counsellor,
    Criterion,
    MatchWeights,
    Params,
    Patient,
    Reason,
    ReasonCode,
    Requirement,
    params,
)
from .timegrid import Grid

__all__ = [
    "caseload_cost",
    "caseload_reason",
    "hard_reasons",
    "preference_points",
    "preference_reasons",
    "requirements_missed",
    "site_allowed",
    "slot_time_reason",
    "time_reason",
]


def site_allowed(patient: Patient, counsellor: Counsellor) -> bool:
    """Whether the coordinators allow this counsellor's site for this patient (hard)."""
    allowed = patient.allowed_sites
    return allowed is None or (counsellor.site is not None and counsellor.site in allowed)


def site_reason(patient: Patient, counsellor: Counsellor) -> Reason:
    if patient.allowed_sites is None:
        return Reason(Criterion.SITE, ReasonCode.SITE_UNRESTRICTED, True)
    if site_allowed(patient, counsellor):
        return Reason(
            Criterion.SITE, ReasonCode.SITE_ALLOWED, True, 0, params(site=counsellor.site or "")
        )
    return Reason(
        Criterion.SITE,
        ReasonCode.SITE_NOT_ALLOWED,
        False,
        0,
        params(site=counsellor.site or "", sites=tuple(sorted(patient.allowed_sites))),
    )


def requirements_missed(patient: Patient, counsellor: Counsellor) -> tuple[Requirement, ...]:
    """The patient's requirements this counsellor does not meet, in a fixed order."""
    missed: list[Requirement] = []
    for requirement in sorted(patient.requirements):
        if requirement is Requirement.SAME_CONDITION:
            ok = bool(patient.conditions & counsellor.conditions)
        elif requirement is Requirement.SAME_CONDITION_GROUP:
            ok = bool(
                patient.conditions & counsellor.conditions
                or patient.condition_groups & counsellor.condition_groups
            )
        elif requirement is Requirement.SAME_COUNTRY:
            ok = patient.country == counsellor.country
        else:
            # A required gender with no gender stated is no requirement at all.
            ok = patient.preferred_gender in (None, counsellor.gender)
        if not ok:
            missed.append(requirement)
    return tuple(missed)


def preference_points(patient: Patient, counsellor: Counsellor, weights: MatchWeights) -> int:
    """The pair's points before the caseload penalty (the hot path; keep it branch-light)."""
    points = 0
    if patient.conditions & counsellor.conditions:
        points += weights.same_condition
    elif patient.condition_groups & counsellor.condition_groups:
        points += weights.same_condition_group
    if patient.country == counsellor.country:
        points += weights.same_country
    if patient.preferred_gender is not None and patient.preferred_gender == counsellor.gender:
        points += weights.preferred_gender
    if patient.age_band is not None and counsellor.age_band is not None:
        apart = abs(patient.age_band - counsellor.age_band)
        if apart == 0:
            points += weights.same_age_band
        elif apart == 1:
            points += weights.adjacent_age_band
    if patient.current_counsellor_id == counsellor.id:
        points += weights.keep_current_counsellor
    return points


def caseload_cost(weights: MatchWeights, caseload: int) -> int:
    """What it costs to add a patient to a caseload that already holds ``caseload``."""
    return weights.load_spread * caseload


def caseload_reason(counsellor: Counsellor, weights: MatchWeights, caseload: int) -> Reason:
    if caseload == 0:
        return Reason(Criterion.CASELOAD, ReasonCode.NO_CASELOAD, True, 0)
    return Reason(
        Criterion.CASELOAD,
        ReasonCode.CASELOAD,
        False,
        -caseload_cost(weights, caseload),
        params(caseload=caseload, max_patients=counsellor.max_patients),
    )


def preference_reasons(
    patient: Patient, counsellor: Counsellor, weights: MatchWeights, *, caseload: int
) -> tuple[Reason, ...]:
    """One reason per preference criterion, in ``PREFERENCE_CRITERIA`` order."""
    shared = patient.conditions & counsellor.conditions
    groups = patient.condition_groups & counsellor.condition_groups
    if shared:
        condition = Reason(
            Criterion.CONDITION,
            ReasonCode.SAME_CONDITION,
            True,
            weights.same_condition,
            params(conditions=tuple(sorted(shared))),
        )
    elif groups:
        condition = Reason(
            Criterion.CONDITION,
            ReasonCode.SAME_CONDITION_GROUP,
            True,
            weights.same_condition_group,
            params(condition_groups=tuple(sorted(groups))),
        )
    else:
        # Transdiagnostic is how the program works anyway; it is a missed bonus, not a fault.
        condition = Reason(Criterion.CONDITION, ReasonCode.TRANSDIAGNOSTIC, False, 0)

    if patient.country == counsellor.country:
        country = Reason(
            Criterion.COUNTRY,
            ReasonCode.SAME_COUNTRY,
            True,
            weights.same_country,
            params(country=counsellor.country),
        )
    else:
        country = Reason(
            Criterion.COUNTRY,
            ReasonCode.OTHER_COUNTRY,
            False,
            0,
            params(country=counsellor.country),
        )

    wanted = patient.preferred_gender
    if wanted is None:
        gender = Reason(Criterion.GENDER, ReasonCode.NO_GENDER_PREFERENCE, None, 0)
    elif wanted == counsellor.gender:
        gender = Reason(
            Criterion.GENDER,
            ReasonCode.GENDER_PREFERRED,
            True,
            weights.preferred_gender,
            params(gender=wanted),
        )
    else:
        gender = Reason(
            Criterion.GENDER, ReasonCode.GENDER_NOT_PREFERRED, False, 0, params(gender=wanted)
        )

    if patient.age_band is None or counsellor.age_band is None:
        age = Reason(Criterion.AGE, ReasonCode.AGE_UNKNOWN, None, 0)
    else:
        apart = abs(patient.age_band - counsellor.age_band)
        if apart == 0:
            age = Reason(Criterion.AGE, ReasonCode.SAME_AGE_BAND, True, weights.same_age_band)
        elif apart == 1:
            age = Reason(
                Criterion.AGE, ReasonCode.ADJACENT_AGE_BAND, True, weights.adjacent_age_band
            )
        else:
            age = Reason(
                Criterion.AGE, ReasonCode.DISTANT_AGE_BAND, False, 0, params(bands_apart=apart)
            )

    if patient.current_counsellor_id is None:
        continuity = Reason(Criterion.CONTINUITY, ReasonCode.NEW_PAIRING, None, 0)
    elif patient.current_counsellor_id == counsellor.id:
        continuity = Reason(
            Criterion.CONTINUITY, ReasonCode.KEEPS_COUNSELLOR, True, weights.keep_current_counsellor
        )
    else:
        continuity = Reason(Criterion.CONTINUITY, ReasonCode.CHANGES_COUNSELLOR, False, 0)

    return (
        condition,
        country,
        gender,
        age,
        caseload_reason(counsellor, weights, caseload),
        continuity,
    )


def time_reason(
    *,
    grid: Grid,
    plan: CallPlan,
    patient_starts: int,
    common: int,
    schedule: tuple[int, ...] | None,
) -> Reason:
    """The call-times reason of a pair, given its common starts and proposed series."""
    if schedule is not None:
        return Reason(
            Criterion.CALL_TIMES,
            ReasonCode.CALL_TIMES_FIT,
            True,
            0,
            params(first_call=schedule[0], calls=plan.calls),
        )
    if not patient_starts:
        return Reason(Criterion.CALL_TIMES, ReasonCode.NO_CALL_TIMES, False)
    return Reason(Criterion.CALL_TIMES, grid.shortfall(common), False, 0, _time_params(plan))


def slot_time_reason(
    *, plan: CallPlan, has_call_times: bool, schedule: tuple[int, ...] | None
) -> Reason:
    """The call-times reason in slot mode: a bookable slot, or why there is none."""
    if schedule is not None:
        return Reason(
            Criterion.CALL_TIMES,
            ReasonCode.CALL_TIMES_FIT,
            True,
            0,
            params(first_call=schedule[0], calls=plan.calls),
        )
    if not has_call_times:
        return Reason(Criterion.CALL_TIMES, ReasonCode.NO_CALL_TIMES, False)
    return Reason(Criterion.CALL_TIMES, ReasonCode.NO_BOOKABLE_SLOT, False, 0, _time_params(plan))


def _time_params(plan: CallPlan) -> Params:
    return params(calls=plan.calls, days=plan.first_call_within_minutes // (24 * 60))


def hard_reasons(
    patient: Patient,
    counsellor: Counsellor,
    *,
    time: Reason,
) -> tuple[Reason, ...]:
    """One reason per hard constraint, in ``HARD_CRITERIA`` order; ``time`` is precomputed."""
    shared = patient.languages & counsellor.languages
    missed = requirements_missed(patient, counsellor)
    left = counsellor.capacity_left
    declined = counsellor.id in patient.declined_counsellor_ids
    return (
        Reason(
            Criterion.CERTIFIED,
            ReasonCode.CERTIFIED if counsellor.certified else ReasonCode.NOT_CERTIFIED,
            counsellor.certified,
        ),
        Reason(
            Criterion.ACTIVE,
            ReasonCode.ACTIVE if counsellor.active else ReasonCode.INACTIVE,
            counsellor.active,
        ),
        site_reason(patient, counsellor),
        Reason(
            Criterion.LANGUAGE,
            ReasonCode.LANGUAGE_SHARED,
            True,
            0,
            params(languages=tuple(sorted(shared))),
        )
        if shared
        else Reason(
            Criterion.LANGUAGE,
            ReasonCode.NO_SHARED_LANGUAGE,
            False,
            0,
            params(languages=tuple(sorted(patient.languages))),
        ),
        Reason(
            Criterion.NOT_DECLINED,
            ReasonCode.DECLINED_BEFORE if declined else ReasonCode.NOT_DECLINED,
            not declined,
        ),
        Reason(
            Criterion.REQUIREMENTS,
            ReasonCode.REQUIREMENTS_UNMET,
            False,
            0,
            params(requirements=tuple(str(item) for item in missed)),
        )
        if missed
        else Reason(
            Criterion.REQUIREMENTS,
            ReasonCode.REQUIREMENTS_MET,
            True,
            0,
            params(requirements=tuple(sorted(str(item) for item in patient.requirements))),
        ),
        Reason(
            Criterion.CAPACITY,
            ReasonCode.CAPACITY_LEFT if left else ReasonCode.NO_CAPACITY,
            left > 0,
            0,
            params(left=left),
        ),
        time,
    )
