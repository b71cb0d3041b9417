"""Adapting the matching engine: build its plain inputs from the database, and turn its
reason and fix codes into sentences in the reader's language."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile
from rarebridge.conditions.selectors import groups_by_code, patient_condition_codes
from rarebridge.counselling.models import (
    Assignment,
    Certification,
    CounsellorCondition,
    CounsellorProfile,
    MatchDecline,
    MatchPreference,
)
from rarebridge.counselling.selectors import free_slots_for_many
from rarebridge.engines import matching as engine
from rarebridge.engines.slots import WeeklyRule, free_slots

AGE_BANDS = [band for band, _label in CounsellorProfile.AgeBand.choices]
HORIZON = timedelta(days=14 + 5 * 7 + 2)  # first call within two weeks, five more weekly, slack
DEFAULT_WINDOW = (time(8), time(20))


def _ranges(slots: list[datetime], minutes: int = 30) -> tuple[engine.TimeRange, ...]:
    """Consecutive slot starts merged into ranges."""
    ranges: list[list[datetime]] = []
    step = timedelta(minutes=minutes)
    for slot in slots:
        if ranges and ranges[-1][1] == slot:
            ranges[-1][1] = slot + step
        else:
            ranges.append([slot, slot + step])
    return tuple(engine.TimeRange.between(a, b) for a, b in ranges)


def weights() -> engine.MatchWeights:
    return (
        engine.MatchWeights(**settings.MATCH_WEIGHTS)
        if settings.MATCH_WEIGHTS
        else engine.DEFAULT_WEIGHTS
    )


def counsellor_condition_codes(profiles) -> dict[int, frozenset[str]]:
    """Each counsellor's conditions as ORPHAcode strings ("171"), by profile id: one query."""
    codes: dict[int, set[str]] = {}
    for profile_id, code in CounsellorCondition.objects.filter(counsellor__in=profiles).values_list(
        "counsellor_id", "condition__orphacode"
    ):
        codes.setdefault(profile_id, set()).add(str(code))
    return {pk: frozenset(c) for pk, c in codes.items()}


def _groups(codes, groups: dict[str, frozenset[str]]) -> frozenset[str]:
    return frozenset(g for code in codes for g in groups.get(code, ()))


def counsellors_for_matching(
    *, organisation_ids: list[int], now: datetime, leaving_patient=None
) -> list[engine.Counsellor]:
    """The counsellors of these organisations as the engine sees them, with the conditions
    they live with (their condition rows) and the groups above those."""
    certified = set(
        Certification.objects.filter(revoked_at__isnull=True, valid_until__gt=now).values_list(
            "counsellor_id", flat=True
        )
    )
    profiles = (
        CounsellorProfile.objects.filter(organisation_id__in=organisation_ids)
        .select_related("user")
        .annotate(
            load=Count(
                "user__caseload", filter=Q(user__caseload__ended_at__isnull=True), distinct=True
            )
        )
    )
    profiles = list(profiles)
    free = free_slots_for_many(counsellors=profiles, start=now, end=now + HORIZON)
    codes = counsellor_condition_codes(profiles)
    groups = groups_by_code({code for c in codes.values() for code in c})
    current = None
    if leaving_patient is not None:
        current = (
            Assignment.objects.filter(patient=leaving_patient, ended_at__isnull=True)
            .values_list("counsellor_id", flat=True)
            .first()
        )
    result = []
    for profile in profiles:
        load = profile.load
        if current is not None and profile.user_id == current:
            load -= 1  # re-matching: this patient's own place counts as free
        result.append(
            engine.Counsellor(
                id=str(profile.user_id),
                languages=frozenset(profile.languages),
                country=profile.country_id,
                certified=profile.pk in certified,
                active=profile.is_active,
                conditions=codes.get(profile.pk, frozenset()),
                condition_groups=_groups(codes.get(profile.pk, ()), groups),
                gender=profile.gender if profile.gender in ("woman", "man", "other") else None,
                age_band=AGE_BANDS.index(profile.age_band)
                if profile.age_band in AGE_BANDS
                else None,
                max_patients=profile.capacity,
                active_patients=max(0, load),
                free=_ranges(free[profile.pk]),
            )
        )
    return result


def patient_for_matching(*, patient: PatientProfile, now: datetime) -> engine.Patient:
    """The patient as the engine sees them, with their conditions (their condition rows) and
    the groups above those. A patient without any is paired transdiagnostically, which the
    program supports."""
    preference = MatchPreference.objects.filter(patient=patient).first()
    zone = zoneinfo.ZoneInfo(patient.user.time_zone)
    windows = (preference.call_windows if preference else []) or [
        {"weekday": d, "start": DEFAULT_WINDOW[0].isoformat(), "end": DEFAULT_WINDOW[1].isoformat()}
        for d in range(7)
    ]
    rules = [
        WeeklyRule(w["weekday"], time.fromisoformat(w["start"]), time.fromisoformat(w["end"]))
        for w in windows
    ]
    slots = free_slots(rules=rules, exceptions=[], busy=[], zone=zone, start=now, end=now + HORIZON)
    current = (
        patient.assignments.filter(ended_at__isnull=True)
        .values_list("counsellor_id", flat=True)
        .first()
    )
    languages = {patient.user.language, *(preference.extra_languages if preference else [])}
    requirements = (
        frozenset({engine.Requirement.PREFERRED_GENDER})
        if preference and preference.gender_required and preference.preferred_gender
        else frozenset()
    )
    year = patient.year_of_birth
    age_band = None
    if year:
        age = now.year - year
        age_band = min(len(AGE_BANDS) - 1, max(0, (age - 20) // 10))
    codes = patient_condition_codes(patient)
    groups = _groups(codes, groups_by_code(codes))
    return engine.Patient(
        id=str(patient.pk),
        conditions=frozenset(codes),
        condition_groups=frozenset(groups),
        languages=frozenset(languages),
        country=patient.country_id,
        preferred_gender=(preference.preferred_gender or None) if preference else None,
        age_band=age_band,
        call_times=_ranges(slots),
        current_counsellor_id=str(current) if current else None,
        declined_counsellor_ids=frozenset(
            str(c)
            for c in MatchDecline.objects.filter(patient=patient).values_list(
                "counsellor_id", flat=True
            )
        ),
        requirements=requirements,
        time_zone=patient.user.time_zone,
    )


def now_minute(now: datetime | None = None) -> int:
    return engine.utc_minute(now or timezone.now(), round_up=True)


# Sentences for the engine's codes ----------------------------------------------------------


def reason_text(reason: engine.Reason) -> str:
    p = dict(reason.params)
    texts = {
        "certified.yes": _("Certified"),
        "certified.no": _("Not certified"),
        "active.yes": _("Active"),
        "active.no": _("Not active"),
        "language.shared": _("Shares a language: %(languages)s"),
        "language.none_shared": _("No shared language (patient speaks %(languages)s)"),
        "not_declined.yes": _("Not declined before"),
        "not_declined.no": _("This pairing was declined before"),
        "requirements.met": _("Meets the patient's must-haves"),
        "requirements.unmet": _("Misses a must-have of the patient"),
        "capacity.left": _("Has room for %(left)s more"),
        "capacity.none": _("No room left"),
        "capacity.taken_in_batch": _("Their places went to other waiting patients"),
        "call_times.fit": _("Six weekly calls fit both calendars"),
        "call_times.none_given": _("The patient gave no call times"),
        "call_times.no_common_slot": _("No common free time"),
        "call_times.no_first_call_in_window": _("No first call possible within two weeks"),
        "call_times.no_weekly_series": _("Free times do not allow six weekly calls"),
        "condition.same": _("Lives with the same condition"),
        "condition.same_group": _("Lives with a related condition"),
        "condition.transdiagnostic": _("Different condition (the program works for any)"),
        "country.same": _("Same country"),
        "country.other": _("Lives in another country (%(country)s)"),
        "gender.preferred": _("The gender the patient asked for"),
        "gender.not_preferred": _("Not the gender the patient asked for"),
        "gender.no_preference": _("No gender preference"),
        "age.same_band": _("Similar age"),
        "age.adjacent_band": _("Close in age"),
        "age.distant_band": _("Different age group"),
        "age.unknown": _("Age not known"),
        "caseload.none": _("No patients yet"),
        "caseload.some": _("Already has %(caseload)s patient(s)"),
        "continuity.kept": _("Keeps the current counsellor"),
        "continuity.changed": _("Changes the current counsellor"),
        "continuity.new": _("First pairing"),
    }
    text = texts.get(str(reason.code), str(reason.code))
    values = {k: ", ".join(map(str, v)) if isinstance(v, tuple) else v for k, v in p.items()}
    try:
        return text % values
    except (KeyError, TypeError):
        return text.split(" (%")[0].split(": %")[0]


def fix_text(fix: engine.Fix) -> str:
    p = {
        k: ", ".join(map(str, v)) if isinstance(v, tuple) else v
        for k, v in dict(fix.params).items()
    }
    texts = {
        "recruit_counsellor": _("Recruit a counsellor who speaks %(languages)s"),
        "certify_counsellors": _(
            "Certify %(counsellors)s counsellor(s) whose certification lapsed"
        ),
        "reactivate_counsellors": _("Reactivate %(counsellors)s inactive counsellor(s)"),
        "review_declined": _("Review %(counsellors)s pairing(s) declined before"),
        "relax_requirement": _("Ask the patient whether a must-have can become a wish"),
        "raise_capacity": _("Ask %(counsellors)s counsellor(s) to take one more patient"),
        "widen_call_times": _(
            "Ask the patient (or %(counsellors)s counsellor(s)) for more call times"
        ),
    }
    text = texts.get(str(fix.code), str(fix.code))
    try:
        return text % p
    except (KeyError, TypeError):
        return text.split(" %")[0]
