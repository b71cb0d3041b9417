"""Adapting the matching engine: build its plain inputs from the database, and turn its
reason and fix codes into sentences in the reader's language."""

from __future__ import annotations

import hashlib
import json
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile, RoleAssignment
from rarebridge.conditions.models import PatientCondition
from rarebridge.conditions.selectors import groups_by_code
from rarebridge.core.permissions import Role
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
from rarebridge.network.models import Organisation, Site

AGE_BANDS = [band for band, _label in CounsellorProfile.AgeBand.choices]
HORIZON = timedelta(days=14 + 5 * 7 + 3)  # first call within two weeks, five more weekly, slack
DEFAULT_WINDOW = (time(8), time(20))
SLOT_SALT = "counselling.match.slot"
BATCH_SALT = "counselling.match.batch"


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


def waking_hours() -> engine.WakingHours:
    """The policy window for matching calls, in both people's local time (settings)."""
    return engine.WakingHours(
        start=settings.MATCHING_WAKING_HOURS_START * 60,
        end=settings.MATCHING_WAKING_HOURS_END * 60,
    )


def counsellor_sites(user_ids) -> dict[int, int]:
    """Each counsellor's site (from their active counsellor role), by user id: one query."""
    sites: dict[int, int] = {}
    for user_id, site_id in (
        RoleAssignment.objects.filter(
            user_id__in=user_ids, role=Role.COUNSELLOR, is_active=True, site__isnull=False
        )
        .order_by("pk")
        .values_list("user_id", "site_id")
    ):
        sites.setdefault(user_id, site_id)
    return sites


def _windows(rules) -> list[tuple[int, int, int]]:
    """Availability rules as the engine's weekly windows (weekday, start, end) in local minutes."""
    windows = []
    for rule in rules:
        start = rule.start.hour * 60 + rule.start.minute
        end = rule.end.hour * 60 + rule.end.minute or 24 * 60
        if end > start:
            windows.append((rule.weekday, start, end))
    return windows


def counsellors_for_matching(
    *, organisation_ids: list[int], now: datetime, leaving_patient=None
) -> list[engine.Counsellor]:
    """The counsellors of these organisations as the engine sees them, with the conditions
    they live with (their condition rows) and the groups above those, their site and their
    bookable weekly slots: each availability rule in their own zone, expanded with zoneinfo
    over the six weeks, minus exceptions and booked calls."""
    certified = set(
        Certification.objects.filter(revoked_at__isnull=True, valid_until__gt=now).values_list(
            "counsellor_id", flat=True
        )
    )
    queryset = (
        CounsellorProfile.objects.filter(organisation_id__in=organisation_ids)
        .select_related("user")
        .prefetch_related("rules")
        .annotate(
            load=Count(
                "user__caseload", filter=Q(user__caseload__ended_at__isnull=True), distinct=True
            )
        )
    )
    profiles = list(queryset)
    # Time is the costly part (each weekly slot expanded over six weeks in the person's zone):
    # only for counsellors who could take a patient at all; the others fail a hard rule first.
    open_profiles: list[CounsellorProfile] = [
        p for p in profiles if p.is_active and p.pk in certified and p.capacity > p.load - 1
    ]
    free = free_slots_for_many(counsellors=open_profiles, start=now, end=now + HORIZON)
    codes = counsellor_condition_codes(profiles)
    groups = groups_by_code({code for c in codes.values() for code in c})
    sites = counsellor_sites([p.user_id for p in profiles])
    current = None
    if leaving_patient is not None:
        current = (
            Assignment.objects.filter(patient=leaving_patient, ended_at__isnull=True)
            .values_list("counsellor_id", flat=True)
            .first()
        )
    start = now_minute(now)
    result = []
    for profile in profiles:
        load = profile.load
        if current is not None and profile.user_id == current:
            load -= 1  # re-matching: this patient's own place counts as free
        ranges = _ranges(free[profile.pk]) if profile.pk in free else ()
        site = sites.get(profile.user_id)
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
                free=ranges,
                slots=engine.expand_weekly_slots(
                    time_zone=profile.user.time_zone,
                    windows=_windows(profile.rules.all()) if profile.pk in free else [],
                    now=start,
                    plan=engine.DEFAULT_PLAN,
                    free=ranges,
                ),
                time_zone=profile.user.time_zone,
                site=str(site) if site is not None else None,
            )
        )
    return result


def _call_time_rules(preference) -> list[WeeklyRule]:
    windows = (preference.call_windows if preference else []) or [
        {"weekday": d, "start": DEFAULT_WINDOW[0].isoformat(), "end": DEFAULT_WINDOW[1].isoformat()}
        for d in range(7)
    ]
    return [
        WeeklyRule(w["weekday"], time.fromisoformat(w["start"]), time.fromisoformat(w["end"]))
        for w in windows
    ]


def patients_for_matching(*, patients, now: datetime) -> list[engine.Patient]:
    """Many patients as the engine sees them, in a constant number of queries: their
    conditions (their condition rows) and the groups above those, their wishes and call
    times, and the sites whose counsellors they may have (their own site, plus the other
    sites of their organisation where it allows cross-border matching). A patient without
    conditions is paired transdiagnostically, which the program supports."""
    patients = list(patients)
    ids = [p.pk for p in patients]
    preferences = {m.patient_id: m for m in MatchPreference.objects.filter(patient_id__in=ids)}
    current = dict(
        Assignment.objects.filter(patient_id__in=ids, ended_at__isnull=True).values_list(
            "patient_id", "counsellor_id"
        )
    )
    declined: dict[int, set[str]] = {}
    for patient_id, counsellor_id in MatchDecline.objects.filter(patient_id__in=ids).values_list(
        "patient_id", "counsellor_id"
    ):
        declined.setdefault(patient_id, set()).add(str(counsellor_id))
    codes: dict[int, set[str]] = {}
    for patient_id, code in PatientCondition.objects.filter(patient_id__in=ids).values_list(
        "patient_id", "condition__orphacode"
    ):
        codes.setdefault(patient_id, set()).add(str(code))
    groups = groups_by_code({c for cs in codes.values() for c in cs})
    org_ids = {p.organisation_id for p in patients}
    cross_border = set(
        Organisation.objects.filter(pk__in=org_ids, cross_border_matching=True).values_list(
            "pk", flat=True
        )
    )
    org_sites: dict[int, set[str]] = {}
    for org_id, site_id in Site.objects.filter(organisation_id__in=cross_border).values_list(
        "organisation_id", "pk"
    ):
        org_sites.setdefault(org_id, set()).add(str(site_id))
    result = []
    for patient in patients:
        preference = preferences.get(patient.pk)
        zone = zoneinfo.ZoneInfo(patient.user.time_zone)
        slots = free_slots(
            rules=_call_time_rules(preference),
            exceptions=[],
            busy=[],
            zone=zone,
            start=now,
            end=now + HORIZON,
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
        own = codes.get(patient.pk, set())
        allowed = {str(patient.site_id)} | org_sites.get(patient.organisation_id, set())
        result.append(
            engine.Patient(
                id=str(patient.pk),
                conditions=frozenset(own),
                condition_groups=_groups(own, groups),
                languages=frozenset(languages),
                country=patient.country_id,
                preferred_gender=(preference.preferred_gender or None) if preference else None,
                age_band=age_band,
                call_times=_ranges(slots),
                current_counsellor_id=str(current[patient.pk]) if patient.pk in current else None,
                declined_counsellor_ids=frozenset(declined.get(patient.pk, ())),
                requirements=requirements,
                time_zone=patient.user.time_zone,
                allowed_sites=frozenset(allowed),
            )
        )
    return result


def patient_for_matching(*, patient: PatientProfile, now: datetime) -> engine.Patient:
    """One patient as the engine sees them (see ``patients_for_matching``)."""
    return patients_for_matching(patients=[patient], now=now)[0]


def now_minute(now: datetime | None = None) -> int:
    """The engine's ``now``: the earliest start of a first call. Calls are proposed no sooner
    than the change cut-off (``CALL_CHANGE_CUTOFF_HOURS``) so both people hear of them first."""
    lead = timedelta(hours=settings.CALL_CHANGE_CUTOFF_HOURS)
    return engine.utc_minute((now or timezone.now()) + lead, round_up=True)


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
        "call_times.no_bookable_slot": _(
            "No free weekly time of the counsellor suits the patient within waking hours"
        ),
        "site.allowed": _("Works for a site this patient may be matched with"),
        "site.unrestricted": _("The patient may be matched with any site"),
        "site.not_allowed": _("Works for a site outside this patient's sites"),
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
        "allow_cross_border": _(
            "Allow matching across sites: %(counsellors)s counsellor(s) of other sites would fit"
        ),
    }
    text = texts.get(str(fix.code), str(fix.code))
    try:
        return text % p
    except (KeyError, TypeError):
        return text.split(" %")[0]


# The proposed weekly time in both people's local time ----------------------------------------


def _place(zone: str) -> str:
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def slot_texts(*, calls, counsellor_zone: str, patient_zone: str) -> dict:
    """The weekly time of a proposed series and its first call, in both people's local time
    ("Weekly: Tuesday 18:00 in Berlin = Tuesday 12:00 in Toronto")."""
    first = engine.minute_to_datetime(calls[0])
    mine = first.astimezone(zoneinfo.ZoneInfo(counsellor_zone))
    theirs = first.astimezone(zoneinfo.ZoneInfo(patient_zone))
    values = {
        "c_day": date_format(mine, "l"),
        "c_date": date_format(mine, "DATE_FORMAT"),
        "c_time": mine.strftime("%H:%M"),
        "c_place": _place(counsellor_zone),
        "p_day": date_format(theirs, "l"),
        "p_date": date_format(theirs, "DATE_FORMAT"),
        "p_time": theirs.strftime("%H:%M"),
        "p_place": _place(patient_zone),
    }
    return {
        "weekly": _(
            "Weekly: %(c_day)s %(c_time)s in %(c_place)s (counsellor) = "
            "%(p_day)s %(p_time)s in %(p_place)s (patient)"
        )
        % values,
        "first": _(
            "First call: %(c_day)s %(c_date)s %(c_time)s in %(c_place)s = "
            "%(p_day)s %(p_date)s %(p_time)s in %(p_place)s"
        )
        % values,
    }


def sign_slot(*, patient_id: int, counsellor_id: int, calls) -> str:
    """A proposed series as the accept button carries it: signed, so only what the engine
    proposed can be booked from the page."""
    return signing.dumps(
        {"p": patient_id, "c": counsellor_id, "calls": list(calls)}, salt=SLOT_SALT
    )


def unsign_slot(*, value: str, patient_id: int, counsellor_id: int) -> list[datetime] | None:
    """The call starts of a signed proposal for this pair (None when it is not one)."""
    try:
        data = signing.loads(
            value, salt=SLOT_SALT, max_age=settings.MATCHING_PREVIEW_MAX_AGE_MINUTES * 60
        )
    except signing.BadSignature:
        return None
    if data.get("p") != patient_id or data.get("c") != counsellor_id:
        return None
    return [engine.minute_to_datetime(int(m)) for m in data["calls"]]


# Matching everyone at once: a preview, then the confirmation of exactly that preview ----------


@dataclass
class Proposal:
    """What "match everyone" would do now, and the signed identity of it (``token``)."""

    now: datetime
    result: engine.BatchResult
    patients: dict[str, PatientProfile]
    counsellors: dict[str, engine.Counsellor]
    token: str
    digest: str
    names: dict[str, str]  # counsellors' names by user id

    def pairs(self) -> list[list]:
        return [
            [item.patient_id, item.counsellor_id, list(item.schedule)]
            for item in self.result.assignments
        ]


def batch_proposal(*, user, now: datetime | None = None) -> Proposal:
    """The proven-optimal batch over bookable assignments for every waiting patient in reach
    (each match reserves one weekly time of its counsellor within both people's waking
    hours and the patient's sites)."""
    from rarebridge.counselling.selectors import (
        waiting_patients_for_user,
    )

    now = now or timezone.now()
    waiting = {str(p.pk): p for p in waiting_patients_for_user(user=user)}
    counsellors = counsellors_for_matching(organisation_ids=user.organisation_ids, now=now)
    result = engine.match_batch(
        patients=patients_for_matching(patients=waiting.values(), now=now),
        counsellors=counsellors,
        now=now_minute(now),
        weights=weights(),
        slot_capacity=True,
        waking_hours=waking_hours(),
    )
    pairs = [[a.patient_id, a.counsellor_id, list(a.schedule)] for a in result.assignments]
    identity = {"u": user.pk, "now": now.isoformat(), "pairs": pairs}
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return Proposal(
        now=now,
        result=result,
        patients=waiting,
        counsellors={c.id: c for c in counsellors},
        token=signing.dumps(identity, salt=BATCH_SALT),
        digest=digest,
        names={
            str(pk): name
            for pk, name in CounsellorProfile.objects.filter(
                user_id__in=[int(a.counsellor_id) for a in result.assignments]
            ).values_list("user_id", "user__full_name")
        },
    )


def proposal_identity(*, token: str, user) -> dict | None:
    """The preview a confirmation refers to (None when the token is not one of this person's
    previews, or too old to confirm)."""
    try:
        data = signing.loads(
            token, salt=BATCH_SALT, max_age=settings.MATCHING_PREVIEW_MAX_AGE_MINUTES * 60
        )
    except signing.BadSignature:
        return None
    if data.get("u") != user.pk:
        return None
    data["digest"] = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    return data
