"""Permission-checked reads for counselling."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, Max, Min, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language
from django_scopes import scopes_disabled

from rarebridge.accounts.models import RoleAssignment
from rarebridge.accounts.selectors import organisation_wide_ids_for, patients_for_user, site_ids_for
from rarebridge.core.access import get_for_actor
from rarebridge.core.actor import user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm, Role, user_has_perm
from rarebridge.counselling.models import (
    Assignment,
    AvailabilityException,
    AvailabilityRule,
    CalendarFeed,
    Call,
    CallNote,
    Certification,
    CounsellorProfile,
    MatchPreference,
    ReminderPreference,
    TrainingAttendance,
    TrainingModule,
)
from rarebridge.counselling.tokens import feed_token_hash
from rarebridge.engines import matching as engine
from rarebridge.engines.slots import Exception_, WeeklyRule, free_slots
from rarebridge.programs.models import Enrolment, ExerciseAnswer, Guideline
from rarebridge.programs.selectors import weeks_for

CORE_CURRICULUM = "peer-counsellor-core"


def is_certified(*, counsellor: CounsellorProfile, at: datetime | None = None) -> bool:
    at = at or timezone.now()
    return Certification.objects.filter(
        counsellor=counsellor, revoked_at__isnull=True, granted_at__lte=at, valid_until__gt=at
    ).exists()


def training_gaps(*, counsellor: CounsellorProfile) -> list[str]:
    """What stands between a counsellor and certification: modules not attended, role-play."""
    attended = set(
        TrainingAttendance.objects.filter(counsellor=counsellor).values_list(
            "module__code", flat=True
        )
    )
    missing = [
        m.code
        for m in TrainingModule.objects.filter(curriculum=CORE_CURRICULUM, is_refresher=False)
        if m.code not in attended
    ]
    if not counsellor.assessments.filter(passed=True).exists():
        missing.append("role-play")
    return missing


def counsellor_profile_for(*, user) -> CounsellorProfile:
    profile = CounsellorProfile.objects.filter(user=user).select_related("country", "user").first()
    if profile is None:
        raise Http404
    return profile


def counsellor_of_patient(*, patient) -> CounsellorProfile | None:
    assignment = (
        patient.assignments.filter(ended_at__isnull=True).select_related("counsellor").first()
    )
    if assignment is None:
        return None
    return (
        CounsellorProfile.objects.filter(user=assignment.counsellor).select_related("user").first()
    )


def free_slots_for(
    *, counsellor: CounsellorProfile, start: datetime, end: datetime, minutes: int = 30
) -> list[datetime]:
    """Free slot starts (UTC) of a counsellor in [start, end), in three queries."""
    return free_slots_for_many(counsellors=[counsellor], start=start, end=end, minutes=minutes)[
        counsellor.pk
    ]


def free_slots_for_many(
    *, counsellors: list[CounsellorProfile], start: datetime, end: datetime, minutes: int = 30
) -> dict[int, list[datetime]]:
    """Free slot starts of many counsellors at once, in three queries whatever their number."""
    ids = [c.pk for c in counsellors]
    rules: dict[int, list[WeeklyRule]] = {pk: [] for pk in ids}
    for r in AvailabilityRule.objects.filter(counsellor_id__in=ids):
        rules[r.counsellor_id].append(
            WeeklyRule(r.weekday, r.start, r.end, r.valid_from, r.valid_until)
        )
    exceptions: dict[int, list[Exception_]] = {pk: [] for pk in ids}
    for e in AvailabilityException.objects.filter(
        counsellor_id__in=ids,
        day__gte=(start - timedelta(days=1)).date(),
        day__lte=(end + timedelta(days=1)).date(),
    ):
        exceptions[e.counsellor_id].append(Exception_(e.day, e.start, e.end))
    busy: dict[int, list[tuple[datetime, datetime]]] = {pk: [] for pk in ids}
    for c in Call.objects.filter(
        counsellor_id__in=ids,
        status__in=Call.LIVE,
        starts_at__gte=start - timedelta(hours=2),
        starts_at__lt=end,
    ):
        busy[c.counsellor_id].append((c.starts_at, c.ends_at))
    return {
        c.pk: free_slots(
            rules=rules[c.pk],
            exceptions=exceptions[c.pk],
            busy=busy[c.pk],
            zone=zoneinfo.ZoneInfo(c.user.time_zone),
            start=start,
            end=end,
            minutes=minutes,
        )
        for c in counsellors
    }


def bookable_slots_for_patient(
    *, user, days: int | None = None
) -> tuple[CounsellorProfile | None, list[datetime]]:
    """The patient's counsellor and their free slots from tomorrow-ish over the booking horizon."""
    profile = getattr(user, "patient_profile", None)
    counsellor = counsellor_of_patient(patient=profile) if profile else None
    if counsellor is None or not counsellor.is_active or not is_certified(counsellor=counsellor):
        return counsellor, []
    start = timezone.now() + timedelta(hours=settings.CALL_CHANGE_CUTOFF_HOURS)
    start = start.replace(
        minute=0 if start.minute < 30 else 30, second=0, microsecond=0
    ) + timedelta(minutes=30)
    end = start + timedelta(days=days or settings.BOOKING_HORIZON_DAYS)
    return counsellor, free_slots_for(counsellor=counsellor, start=start, end=end)


def calls_for_patient(*, user) -> QuerySet[Call]:
    profile = getattr(user, "patient_profile", None)
    if profile is None:
        return Call.objects.none()
    return (
        Call.objects.filter(patient=profile)
        .exclude(status=Call.Status.MOVED)
        .select_related("counsellor__user")
        .order_by("starts_at")
    )


def call_get_for_user(*, user, id: int, need: str = "view", by=None) -> Call:
    """A call the person takes part in, supervises, or coordinates. Counsellors and patients
    may change their own calls; supervisors read. Reads by anyone but the patient are
    audited (as ``by``, the person with their address, when given; else ``user``)."""
    readable = Call.objects.filter(
        Q(patient__user=user)
        | Q(counsellor__user=user)
        | Q(patient_id__in=patients_for_user(user=user).values("pk"))
    ).select_related("patient__user", "counsellor__user", "enrolment__version")

    def allowed(call: Call) -> bool:
        if need == "change":
            return call.patient.user_id == user.pk or call.counsellor.user_id == user.pk
        if need == "note":
            return call.counsellor.user_id == user.pk
        return True

    call = get_for_actor(readable, by=by if by is not None else user, allowed=allowed, pk=id)
    if call.patient.user_id != user.pk:
        audit_log(action="counselling.call.viewed", actor=by if by is not None else user, obj=call)
    return call


def note_for_call(*, call: Call, by=None) -> CallNote | None:
    """The note of a call. Reading it is audited for everyone but its author (a supervisor
    reading a counsellor's note), as ``by`` when given."""
    note = CallNote.objects.filter(call=call).prefetch_related("amendments__author").first()
    reader = user_of(by) if by is not None else None
    if note is not None and reader is not None and reader.pk != note.written_by_id:
        audit_log(action="counselling.note.viewed", actor=by, obj=note)
    return note


PAST_CALLS_SHOWN = 100


def calls_for_counsellor(*, user, now: datetime | None = None) -> dict[str, list[Call]]:
    """The counsellor's own calls: upcoming (soonest first) and past (latest first, with the
    note's state), moved rows left out."""
    now = now or timezone.now()
    calls = (
        Call.objects.filter(counsellor__user=user)
        .exclude(status=Call.Status.MOVED)
        .select_related("patient__user", "note")
    )
    return {
        "upcoming": list(calls.filter(starts_at__gte=now).order_by("starts_at")),
        "past": list(calls.filter(starts_at__lt=now).order_by("-starts_at")[:PAST_CALLS_SHOWN]),
    }


def calls_for_supervision(
    *, user, counsellor_id: int | None = None, patient_id: int | None = None
) -> QuerySet[Call]:
    """Calls a supervisor may read, of one counsellor or one patient, latest first, each with
    its note: only calls of patients in the supervisor's reach."""
    if not user_has_perm(user, Perm.SUPERVISION_VIEW):
        raise PermissionDenied
    calls = (
        Call.objects.filter(patient_id__in=patients_for_user(user=user).values("pk"))
        .exclude(status=Call.Status.MOVED)
        .select_related("patient__user", "counsellor__user", "note")
        .order_by("-starts_at")
    )
    if counsellor_id is not None:
        calls = calls.filter(counsellor_id=counsellor_id)
    if patient_id is not None:
        calls = calls.filter(patient_id=patient_id)
    return calls


def counsellor_get_for_supervisor(*, user, id: int) -> CounsellorProfile:
    """A counsellor in the supervisor's reach (their site, or the organisation by the flag);
    404 otherwise."""
    if not user_has_perm(user, Perm.SUPERVISION_VIEW):
        raise PermissionDenied
    return get_for_actor(
        counsellors_for_user(user=user, perm=Perm.SUPERVISION_VIEW).select_related(
            "user", "country"
        ),
        by=user,
        pk=id,
    )


def counsellor_home(*, user, now: datetime | None = None) -> dict:
    """Today's calls and the caseload with each patient's week, progress, last and next call,
    shared exercises and late notes, in a fixed number of queries."""
    now = now or timezone.now()
    # A counsellor whose profile is not set up yet still sees their caseload.
    profile = CounsellorProfile.objects.filter(user=user).select_related("country", "user").first()
    zone = zoneinfo.ZoneInfo(user.time_zone)
    local_today = now.astimezone(zone).date()
    day_start = datetime.combine(local_today, datetime.min.time(), tzinfo=zone)
    today = list(
        Call.objects.filter(
            counsellor=profile,
            starts_at__gte=day_start,
            starts_at__lt=day_start + timedelta(days=1),
        )
        .exclude(status__in=[Call.Status.CANCELLED, Call.Status.MOVED])
        .select_related("patient__user")
    )
    patients = list(
        patients_for_user(user=user)
        .order_by("code")
        .annotate(
            last_call=Max(
                "calls__starts_at",
                filter=Q(
                    calls__counsellor=profile, calls__starts_at__lt=now, calls__status__in=Call.LIVE
                ),
            ),
            next_call=Min(
                "calls__starts_at",
                filter=Q(
                    calls__counsellor=profile,
                    calls__starts_at__gte=now,
                    calls__status=Call.Status.BOOKED,
                ),
            ),
        )
        .prefetch_related(
            Prefetch(
                "enrolments",
                queryset=Enrolment.objects.filter(status="active").select_related("version"),
                to_attr="active_enrolments",
            )
        )
    )
    shared: dict[int, list[ExerciseAnswer]] = {}
    for answer in ExerciseAnswer.objects.filter(
        enrolment__patient__in=patients, shared_with_counsellor=True
    ).select_related("exercise"):
        shared.setdefault(answer.enrolment_id, []).append(answer)
    done_counts = dict(
        ExerciseAnswer.objects.filter(enrolment__patient__in=patients, completed_at__isnull=False)
        .values_list("enrolment_id")
        .annotate(n=Count("id"))
    )
    rows = []
    for patient in patients:
        enrolment = patient.active_enrolments[0] if patient.active_enrolments else None
        week = None
        if enrolment:
            states = weeks_for(enrolment=enrolment, user=patient.user, now=now)
            week = next((s.number for s in states if s.is_current), None)
        rows.append(
            {
                "patient": patient,
                "enrolment": enrolment,
                "week": week,
                "done": done_counts.get(enrolment.pk, 0) if enrolment else 0,
                "shared": shared.get(enrolment.pk, []) if enrolment else [],
                "last_call": patient.last_call,
                "next_call": patient.next_call,
            }
        )
    late_notes = list(late_notes_for(counsellors=[profile], now=now))
    return {
        "profile": profile,
        "today": today,
        "rows": rows,
        "late_notes": late_notes,
        # A counsellor whose profile is not set up yet is not certified (and must not crash).
        "certified": profile is not None and is_certified(counsellor=profile, at=now),
    }


def late_notes_for(*, counsellors, now: datetime | None = None) -> QuerySet[Call]:
    """Calls that ended more than CALL_NOTE_DUE_HOURS ago with no signed note."""
    now = now or timezone.now()
    due = now - timedelta(hours=settings.CALL_NOTE_DUE_HOURS)
    return (
        Call.objects.filter(
            counsellor__in=counsellors,
            status__in=[Call.Status.BOOKED, Call.Status.HELD, Call.Status.MISSED],
            starts_at__lt=due,
        )
        .filter(Q(note__isnull=True) | Q(note__signed_at__isnull=True))
        .select_related("patient", "counsellor__user")
    )


def supervisor_dashboard(*, user, now: datetime | None = None) -> dict:
    """The supervisor's counsellors with caseload, calls held and missed, late notes and
    fidelity (share of guideline topics covered), in a fixed number of queries."""
    if not user_has_perm(user, Perm.SUPERVISION_VIEW):
        raise PermissionDenied
    return {"rows": _dashboard_rows(user=user, perm=Perm.SUPERVISION_VIEW, now=now)}


def counsellors_for_user(
    *, user, perm: Perm = Perm.COUNSELLING_MANAGE
) -> QuerySet[CounsellorProfile]:
    """Counsellors in the person's reach with ``perm``: those whose counsellor role is given
    for a site they reach; every counsellor of an organisation they reach as a whole."""
    if not user_has_perm(user, perm):
        return CounsellorProfile.objects.none()
    at_sites = RoleAssignment.objects.filter(
        role=Role.COUNSELLOR, is_active=True, site_id__in=site_ids_for(user, perm)
    ).values("user_id")
    return CounsellorProfile.objects.filter(
        Q(user_id__in=at_sites) | Q(organisation_id__in=organisation_wide_ids_for(user, perm))
    )


def _dashboard_rows(*, user, perm: Perm, now: datetime | None = None) -> list[dict]:
    now = now or timezone.now()
    counsellors = list(
        counsellors_for_user(user=user, perm=perm)
        .select_related("user", "country")
        .annotate(
            caseload=Count(
                "user__caseload", filter=Q(user__caseload__ended_at__isnull=True), distinct=True
            ),
            # Only what happened counts: a call recorded for a time still ahead is not counted.
            held=Count(
                "calls",
                filter=Q(calls__status=Call.Status.HELD, calls__starts_at__lte=now),
                distinct=True,
            ),
            missed=Count(
                "calls",
                filter=Q(calls__status=Call.Status.MISSED, calls__starts_at__lte=now),
                distinct=True,
            ),
        )
        .order_by("country_id", "user__full_name")
    )
    late: dict[int, int] = {}
    for call in late_notes_for(counsellors=counsellors, now=now):
        late[call.counsellor_id] = late.get(call.counsellor_id, 0) + 1
    checklist_sizes = {
        (g.version_id, g.week): len(g.checklist)
        for g in Guideline.objects.filter(language="en").only("version_id", "week", "checklist")
    }
    fidelity: dict[int, list[float]] = {}
    for note in CallNote.objects.filter(
        call__counsellor__in=counsellors,
        held=True,
        call__status=Call.Status.HELD,
        call__starts_at__lte=now,
    ).select_related("call__enrolment"):
        size = checklist_sizes.get((note.call.enrolment.version_id, note.call.week))
        if size:
            fidelity.setdefault(note.call.counsellor_id, []).append(len(note.topics) / size)
    certified = set(
        Certification.objects.filter(
            counsellor__in=counsellors, revoked_at__isnull=True, valid_until__gt=now
        ).values_list("counsellor_id", flat=True)
    )
    rows = [
        {
            "counsellor": c,
            "late": late.get(c.pk, 0),
            "certified": c.pk in certified,
            "fidelity": round(100 * sum(fidelity[c.pk]) / len(fidelity[c.pk]))
            if fidelity.get(c.pk)
            else None,
        }
        for c in counsellors
    ]
    return rows


def patients_needing_reassignment(*, user, now: datetime | None = None):
    """Patients whose current counsellor is inactive or no longer certified."""
    now = now or timezone.now()
    certified_users = Certification.objects.filter(
        revoked_at__isnull=True, valid_until__gt=now, counsellor__is_active=True
    ).values("counsellor__user_id")
    stranded = Assignment.objects.filter(patient=OuterRef("pk"), ended_at__isnull=True).exclude(
        counsellor_id__in=certified_users
    )
    return patients_for_user(user=user).filter(Exists(stranded)).select_related("user", "site")


FEED_PAST_DAYS = 56  # held and missed calls stay in the feed for eight weeks, with their status


def feed_owner(*, token: str):
    """The person whose feed the token opens; none (404) when it is revoked or the account is
    no longer active."""
    feed = (
        CalendarFeed.objects.filter(
            token_hash=feed_token_hash(token), revoked_at__isnull=True, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    if feed is None:
        raise Http404
    return feed.user


def calls_for_feed(*, user) -> list[Call]:
    """A person's upcoming and recent calls, for their own calendar feed: booked, held and
    missed ones with their status, and cancelled ones marked cancelled so calendar apps drop
    them. A moved row is left out: its UID lives on in the call it was moved to. The feed's
    token is the credential, so this reads across the scope of the (anonymous) request."""
    since = timezone.now() - timedelta(days=FEED_PAST_DAYS)
    with scopes_disabled():
        return list(
            Call.objects.filter(starts_at__gte=since)
            .exclude(status=Call.Status.MOVED)
            .filter(Q(patient__user=user) | Q(counsellor__user=user))
            .select_related("counsellor__user", "patient")
        )


def supervisor_dashboard_rows_for_manager(*, user, now: datetime | None = None) -> list[dict]:
    """The same rows as the supervisor dashboard, for coordinators managing counsellors."""
    if not user_has_perm(user, Perm.COUNSELLING_MANAGE):
        raise PermissionDenied
    return _dashboard_rows(user=user, perm=Perm.COUNSELLING_MANAGE, now=now)


def counsellor_get_for_manager(*, user, id: int) -> CounsellorProfile:
    """A counsellor in the person's reach (else 404)."""
    if not user_has_perm(user, Perm.COUNSELLING_MANAGE):
        raise PermissionDenied
    return get_for_actor(counsellors_for_user(user=user).select_related("user"), by=user, pk=id)


def counsellor_in_reach(*, user, counsellor: CounsellorProfile) -> bool:
    """Whether a counsellor is in the reach of a person who manages counsellors."""
    return counsellors_for_user(user=user).filter(pk=counsellor.pk).exists()


def matching_counsellors_for_user(*, user, now: datetime) -> list:
    """The counsellors the matching engine may suggest to this person: those in their reach."""
    # Local: ``counselling.matching`` imports this module (free_slots_for_many).
    from rarebridge.counselling.matching import counsellors_for_matching

    reach = {str(pk) for pk in counsellors_for_user(user=user).values_list("user_id", flat=True)}
    everyone = counsellors_for_matching(organisation_ids=user.organisation_ids, now=now)
    return [c for c in everyone if str(c.id) in reach]


def training_modules() -> QuerySet[TrainingModule]:
    return TrainingModule.objects.filter(curriculum=CORE_CURRICULUM)


def roleplay_checklist() -> dict[str, str]:
    """The role-play items of the core curriculum, in the active language (else English)."""
    import json

    path = settings.BASE_DIR / "content" / "training" / f"{CORE_CURRICULUM}.json"
    items = json.loads(path.read_text(encoding="utf-8"))["roleplay_checklist"]
    return items.get(get_language() or "en") or items["en"]


def reminder_preference_for(*, user) -> ReminderPreference:
    """The person's own reminder choices, or the defaults when they never chose."""
    return ReminderPreference.objects.filter(user=user).first() or ReminderPreference(user=user)


def waiting_patients_for_user(*, user):
    """Patients in reach who are enrolled in the program and have no current counsellor."""
    if not user_has_perm(user, Perm.COUNSELLING_MANAGE):
        raise PermissionDenied
    return (
        patients_for_user(user=user, perm=Perm.PATIENT_VIEW)
        .filter(enrolments__status="active")
        # A join would treat "no assignment at all" like an open one; ask the question directly.
        .exclude(Exists(Assignment.objects.filter(patient=OuterRef("pk"), ended_at__isnull=True)))
        .select_related("user", "site", "country")
        .order_by("created_at")
    )


def matching_overview(*, user, now: datetime | None = None) -> list[dict]:
    """For each waiting patient: ranked suggestions with reasons and the weekly time each
    would book (slot capacity: only bookable proposals), or why nobody fits. The number of
    queries does not grow with the number of waiting patients or counsellors."""
    # Local: ``counselling.matching`` imports this module (free_slots_for_many).
    from rarebridge.counselling.matching import (
        now_minute,
        patients_for_matching,
        waking_hours,
        weights,
    )

    now = now or timezone.now()
    waiting = list(waiting_patients_for_user(user=user)[:100])
    if not waiting:
        return []
    # Only counsellors in the person's reach, each with their bookable weekly slots.
    counsellors = matching_counsellors_for_user(user=user, now=now)
    zones = {c.id: c.time_zone for c in counsellors}
    profiles = {
        user_id: (pk, name)
        for user_id, pk, name in CounsellorProfile.objects.filter(
            user_id__in=[int(c.id) for c in counsellors]
        ).values_list("user_id", "pk", "user__full_name")
    }
    rows = []
    for patient, seen in zip(
        waiting, patients_for_matching(patients=waiting, now=now), strict=True
    ):
        result = engine.suggest_counsellors(
            patient=seen,
            counsellors=counsellors,
            now=now_minute(now),
            weights=weights(),
            limit=3,
            slot_capacity=True,
            waking_hours=waking_hours(),
        )
        rows.append(
            {
                "patient": patient,
                "suggestions": [
                    {
                        "counsellor_id": profiles[int(s.counsellor_id)][0],
                        "name": profiles[int(s.counsellor_id)][1],
                        "score": s.score,
                        "reasons": s.reasons,
                        "calls": s.schedule,
                        "counsellor_zone": zones[s.counsellor_id],
                        "patient_zone": patient.user.time_zone,
                    }
                    for s in result.suggestions
                ],
                "unmatched": result.unmatched,
            }
        )
    return rows


def match_preference_of(*, patient):
    """The patient's own wishes for matching (None until they say anything)."""
    return MatchPreference.objects.filter(patient=patient).first()
