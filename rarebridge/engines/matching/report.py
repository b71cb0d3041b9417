"""Why a patient has no counsellor, and what a coordinator could change.

Counsellors are filtered hard constraint by hard constraint, in ``HARD_CRITERIA`` order, and
the report names the first constraint that leaves nobody ("nobody speaks Hungarian", "the
speakers are all full", "the free ones never overlap the patient's call times"). Fixes come
from counsellors who miss exactly one constraint: relaxing that one constraint, for them,
would give the patient a counsellor. Recruiting always works, so it is always the last fix.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from .model import (
    HARD_CRITERIA,
    CallPlan,
    Counsellor,
    Criterion,
    Fix,
    FixCode,
    FunnelStep,
    Patient,
    Reason,
    ReasonCode,
    Requirement,
    Unmatched,
    params,
)
from .pairs import requirements_missed

__all__ = ["REPORTED_IDS", "Facts", "counsellor_facts", "unmatched_report"]

# A fix names a few counsellors to ask first; the count says how many there are in all.
REPORTED_IDS = 10

_STAGE = {criterion: index for index, criterion in enumerate(HARD_CRITERIA)}
_REQUIREMENTS_STAGE = _STAGE[Criterion.REQUIREMENTS]
_TIME_STAGE = _STAGE[Criterion.CALL_TIMES]
_ELIGIBLE = len(HARD_CRITERIA)
_STAGE_OF: dict[Criterion | Requirement, int] = {
    item: _STAGE[Criterion.REQUIREMENTS] if isinstance(item, Requirement) else _STAGE[item]
    for item in (*HARD_CRITERIA, *Requirement)
}
# The further a pair's time got through the series test, the more useful it is to say so.
_SHORTFALL_RANK = {
    ReasonCode.NO_COMMON_SLOT: 0,
    ReasonCode.NO_FIRST_CALL_IN_WINDOW: 1,
    ReasonCode.NO_WEEKLY_SERIES: 2,
    ReasonCode.NO_BOOKABLE_SLOT: 3,
}
_FIX_OF: dict[Criterion, FixCode] = {
    Criterion.CERTIFIED: FixCode.CERTIFY_COUNSELLORS,
    Criterion.ACTIVE: FixCode.REACTIVATE_COUNSELLORS,
    Criterion.SITE: FixCode.ALLOW_CROSS_BORDER,
    Criterion.NOT_DECLINED: FixCode.REVIEW_DECLINED,
    Criterion.CAPACITY: FixCode.RAISE_CAPACITY,
    Criterion.CALL_TIMES: FixCode.WIDEN_CALL_TIMES,
}


# Per counsellor: id, the patient-independent misses before the site (certified, active),
# whether they are full, their languages and their site.
Row = tuple[str, tuple[Criterion, ...], bool, frozenset[str], str | None]


@dataclass(frozen=True, slots=True)
class Facts:
    """What the report needs of the counsellors, once for many patients.

    Masks are bitsets over counsellor indices: counsellors who share no language with a
    patient can only stop the funnel at certified, active, site or language, and no fix asks
    them for anything, so they are counted with a few ``&`` and never visited one by one.
    """

    rows: list[Row]
    everyone: int
    uncertified: int
    inactive: int
    speakers: dict[str, int]
    at_site: dict[str | None, int]


def counsellor_facts(counsellors: Sequence[Counsellor]) -> Facts:
    rows: list[Row] = []
    uncertified = inactive = 0
    speakers: dict[str, int] = {}
    at_site: dict[str | None, int] = {}
    for index, counsellor in enumerate(counsellors):
        bit = 1 << index
        front: list[Criterion] = []
        if not counsellor.certified:
            front.append(Criterion.CERTIFIED)
            uncertified |= bit
        if not counsellor.active:
            front.append(Criterion.ACTIVE)
            inactive |= bit
        for language in counsellor.languages:
            speakers[language] = speakers.get(language, 0) | bit
        at_site[counsellor.site] = at_site.get(counsellor.site, 0) | bit
        rows.append(
            (
                counsellor.id,
                tuple(front),
                counsellor.capacity_left <= 0,
                counsellor.languages,
                counsellor.site,
            )
        )
    return Facts(
        rows=rows,
        everyone=(1 << len(counsellors)) - 1,
        uncertified=uncertified,
        inactive=inactive,
        speakers=speakers,
        at_site=at_site,
    )


def _who(ids: Sequence[str]) -> dict[str, int | tuple[str, ...]]:
    return {"counsellors": len(ids), "counsellor_ids": tuple(ids[:REPORTED_IDS])}


def unmatched_report(
    *,
    patient: Patient,
    counsellors: Sequence[Counsellor],
    time_fits: Callable[[int], bool],
    time_shortfall: Callable[[int], ReasonCode],
    has_call_times: bool,
    plan: CallPlan,
    eligible: Collection[int] | None = None,
    facts: Facts | None = None,
) -> Unmatched:
    """Report on ``patient`` against every counsellor (``counsellors`` sorted by id).

    ``eligible`` (indices into ``counsellors``) is what the batch already knows passes every
    hard constraint; with it the report needs no time test for those counsellors, and a
    non-empty ``eligible`` means the batch gave their places to other patients.
    ``time_fits(index)`` is the call-times test of the pair (a weekly series, or in slot mode
    a bookable slot); ``time_shortfall(index)`` names how a pair that fails it falls short.
    ``facts`` is ``counsellor_facts(counsellors)``, for a caller who reports on many patients.
    """
    if facts is None:
        facts = counsellor_facts(counsellors)
    stop_counts = [0] * (_ELIGIBLE + 1)
    # Counsellors who miss exactly one thing, by that thing (a criterion or a requirement).
    only: dict[Criterion | Requirement, list[str]] = {}
    missed_requirements: set[Requirement] = set()
    stopped_at: dict[int, list[str]] = {}
    best_shortfall: ReasonCode | None = None
    allowed = patient.allowed_sites
    languages = patient.languages
    declined = patient.declined_counsellor_ids
    required = bool(patient.requirements)
    language = Criterion.LANGUAGE
    # Counsellors without a shared language, counted by where they stop (see ``Facts``).
    speaking = 0
    for spoken in languages:
        speaking |= facts.speakers.get(spoken, 0)
    silent = facts.everyone & ~speaking
    for stage, misses in (
        (_STAGE[Criterion.CERTIFIED], facts.uncertified),
        (_STAGE[Criterion.ACTIVE], facts.inactive),
    ):
        stop_counts[stage] += (silent & misses).bit_count()
        silent &= ~misses
    if allowed is not None:
        allowed_mask = 0
        for allowed_site in allowed:
            allowed_mask |= facts.at_site.get(allowed_site, 0)
        stop_counts[_STAGE[Criterion.SITE]] += (silent & ~allowed_mask).bit_count()
        silent &= allowed_mask
    stop_counts[_STAGE[language]] += silent.bit_count()
    rows = facts.rows
    while speaking:
        low = speaking & -speaking
        speaking ^= low
        index = low.bit_length() - 1
        ident, front, full, _languages, site = rows[index]
        # Filled in funnel order, so the first entry is where this counsellor stops.
        fails: list[Criterion | Requirement] = list(front)
        if allowed is not None and (site is None or site not in allowed):
            fails.append(Criterion.SITE)
        # Everyone visited here shares a language with the patient.
        if declined and ident in declined:
            fails.append(Criterion.NOT_DECLINED)
        missed = requirements_missed(patient, counsellors[index]) if required else ()
        if missed:
            fails.extend(missed)
        if full:
            fails.append(Criterion.CAPACITY)
        # Time is the dear test: run it only where it changes the funnel or a fix (no fix asks
        # a counsellor for a language, so missing only the language settles it).
        if not fails or (len(fails) == 1 and fails[0] is not language):
            known = eligible is not None and not fails
            time_ok = index in eligible if known and eligible is not None else time_fits(index)
            if not time_ok:
                fails.append(Criterion.CALL_TIMES)
                if len(fails) == 1 and has_call_times:
                    code = time_shortfall(index)
                    if best_shortfall is None or (
                        _SHORTFALL_RANK[code] > _SHORTFALL_RANK[best_shortfall]
                    ):
                        best_shortfall = code
        stop = _STAGE_OF[fails[0]] if fails else _ELIGIBLE
        stop_counts[stop] += 1
        stopped_at.setdefault(stop, []).append(ident)
        if len(fails) == 1:
            only.setdefault(fails[0], []).append(ident)
        if stop == _REQUIREMENTS_STAGE:
            missed_requirements.update(missed)

    funnel: list[FunnelStep] = []
    blocking: Criterion | None = None
    before = len(counsellors)
    prior = before
    remaining = before
    for stage, criterion in enumerate(HARD_CRITERIA):
        remaining -= stop_counts[stage]
        funnel.append(FunnelStep(criterion, remaining))
        if remaining == 0 and blocking is None:
            blocking = criterion
            prior = before
        before = remaining

    taken = stopped_at.get(_ELIGIBLE, [])
    reason = _blocking_reason(
        patient=patient,
        plan=plan,
        blocking=blocking,
        prior=prior,
        taken=taken,
        missed_requirements=missed_requirements,
        shortfall=best_shortfall,
        has_call_times=has_call_times,
        declined=stopped_at.get(_STAGE[Criterion.NOT_DECLINED], []),
    )
    return Unmatched(
        patient_id=patient.id,
        blocking=blocking,
        reasons=(reason,),
        funnel=tuple(funnel),
        fixes=_fixes(patient=patient, only=only, taken=taken),
    )


def _blocking_reason(
    *,
    patient: Patient,
    plan: CallPlan,
    blocking: Criterion | None,
    prior: int,
    taken: Sequence[str],
    missed_requirements: set[Requirement],
    shortfall: ReasonCode | None,
    has_call_times: bool,
    declined: Sequence[str],
) -> Reason:
    if blocking is None:
        return Reason(
            Criterion.CAPACITY, ReasonCode.CAPACITY_TAKEN, False, 0, params(**_who(taken))
        )
    if blocking is Criterion.CERTIFIED:
        return Reason(blocking, ReasonCode.NOT_CERTIFIED, False, 0, params(counsellors=prior))
    if blocking is Criterion.ACTIVE:
        return Reason(blocking, ReasonCode.INACTIVE, False, 0, params(counsellors=prior))
    if blocking is Criterion.LANGUAGE:
        return Reason(
            blocking,
            ReasonCode.NO_SHARED_LANGUAGE,
            False,
            0,
            params(languages=tuple(sorted(patient.languages)), counsellors=prior),
        )
    if blocking is Criterion.NOT_DECLINED:
        return Reason(
            blocking,
            ReasonCode.DECLINED_BEFORE,
            False,
            0,
            params(counsellors=prior, counsellor_ids=tuple(declined[:REPORTED_IDS])),
        )
    if blocking is Criterion.REQUIREMENTS:
        return Reason(
            blocking,
            ReasonCode.REQUIREMENTS_UNMET,
            False,
            0,
            params(
                requirements=tuple(sorted(str(item) for item in missed_requirements)),
                counsellors=prior,
            ),
        )
    if blocking is Criterion.CAPACITY:
        return Reason(blocking, ReasonCode.NO_CAPACITY, False, 0, params(counsellors=prior))
    if blocking is Criterion.SITE:
        return Reason(
            blocking,
            ReasonCode.SITE_NOT_ALLOWED,
            False,
            0,
            params(sites=tuple(sorted(patient.allowed_sites or ())), counsellors=prior),
        )
    if not has_call_times:
        return Reason(blocking, ReasonCode.NO_CALL_TIMES, False, 0, params(counsellors=prior))
    return Reason(
        blocking,
        shortfall or ReasonCode.NO_COMMON_SLOT,
        False,
        0,
        params(
            counsellors=prior,
            calls=plan.calls,
            days=plan.first_call_within_minutes // (24 * 60),
        ),
    )


def _fixes(
    *,
    patient: Patient,
    only: dict[Criterion | Requirement, list[str]],
    taken: Sequence[str],
) -> tuple[Fix, ...]:
    fixes: list[Fix] = []
    for criterion in HARD_CRITERIA:
        if criterion is Criterion.REQUIREMENTS:
            for requirement in sorted(patient.requirements):
                ids = only.get(requirement, [])
                if ids:
                    fixes.append(
                        Fix(
                            FixCode.RELAX_REQUIREMENT,
                            params(requirement=str(requirement), **_who(ids)),
                        )
                    )
            continue
        ids = only.get(criterion, [])
        if criterion is Criterion.CAPACITY:
            # Full before the batch or filled by it: either way, one more place would do.
            ids = sorted({*ids, *taken})
        # A language cannot be asked of a counsellor; recruiting (below) covers it.
        if ids and criterion in _FIX_OF:
            fixes.append(Fix(_FIX_OF[criterion], params(**_who(ids))))
    fixes.append(
        Fix(
            FixCode.RECRUIT_COUNSELLOR,
            params(languages=tuple(sorted(patient.languages)), country=patient.country),
        )
    )
    return tuple(fixes)
