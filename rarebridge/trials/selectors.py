"""Permission-checked reads of studies and participants.

Site coordinators reach their site's participants; trial managers their organisation's. The
arms of unused allocation slots are never read here: the manager sees counts only.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django_scopes import scopes_disabled

from rarebridge.accounts.models import User
from rarebridge.accounts.selectors import email_confirmed, site_ids_for
from rarebridge.core.access import get_for_actor
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.engines.windows import ScheduleRules, WindowRule
from rarebridge.instruments.content import UNFIT_WORDING, wording_status
from rarebridge.instruments.models import Response
from rarebridge.network.models import Site
from rarebridge.trials.models import (
    Allocation,
    Assessment,
    ConsentVersion,
    Participant,
    ScreeningRecord,
    StratumCounter,
    Study,
)


def _reach(user: User, perm: Perm) -> Q | None:
    """Sites (Q on ``site``) a person reaches with ``perm``; None when their roles do not carry
    it. Reach is :func:`accounts.selectors.site_ids_for`: a site coordinator's site, every
    site for a trial manager or an organisation-wide assignment."""
    if not user.is_authenticated or not user_has_perm(user, perm):
        return None
    return Q(site_id__in=site_ids_for(user, perm))


def participant_allowed(*, user: User, site: Site, perm: Perm) -> bool:
    """Whether ``user`` may act with ``perm`` on participants of ``site``."""
    if not user.is_authenticated:
        return False
    return site.pk in site_ids_for(user, perm)


def _site_q(user: User, perm: Perm) -> Q:
    return Q(pk__in=site_ids_for(user, perm))


def studies_for_user(*, user: User) -> QuerySet[Study]:
    if _reach(user, Perm.STUDY_VIEW) is None:
        return Study.objects.none()
    return Study.objects.filter(organisation_id__in=user.organisation_ids).order_by("slug")


def study_get_for_user(*, by: Actor | User, slug: str, need: Perm = Perm.STUDY_VIEW) -> Study:
    """A study the person sees (else 404); 403 when they see it but lack ``need``."""
    user = user_of(by)
    if user is None:
        raise Http404
    return get_for_actor(
        studies_for_user(user=user),
        by=by,
        allowed=None if need == Perm.STUDY_VIEW else lambda _study: _reach(user, need) is not None,
        slug=slug,
    )


def study_sites_for_user(*, user: User, study: Study, perm: Perm = Perm.STUDY_VIEW):
    return study.study_sites.filter(
        site__in=Site.objects.filter(_site_q(user, perm))
    ).select_related("site")


def participants_for_user(
    *, user: User, study: Study, perm: Perm = Perm.STUDY_VIEW
) -> QuerySet[Participant]:
    flt = _reach(user, perm)
    if flt is None:
        return Participant.objects.none()
    return (
        Participant.objects.filter(study=study)
        .filter(flt)
        .select_related("patient__user", "site", "allocation")
    )


def participant_get_for_user(
    *,
    by: Actor | User,
    study: Study,
    id: int,
    need: Perm = Perm.STUDY_VIEW,
) -> Participant:
    """One participant's identifiable record; reading it is audited."""
    user = user_of(by)
    if user is None:
        raise Http404
    return get_for_actor(
        participants_for_user(user=user, study=study),
        by=by,
        allowed=None
        if need == Perm.STUDY_VIEW
        else lambda participant: participant_allowed(user=user, site=participant.site, perm=need),
        audit="trials.participant.viewed",
        payload={"need": str(need)},
        pk=id,
    )


def participation_for_patient(*, user: User) -> Participant | None:
    """The signed-in patient's own current participation, if any."""
    profile = getattr(user, "patient_profile", None)
    if profile is None:
        return None
    return (
        Participant.objects.filter(patient=profile, organisation_id=profile.organisation_id)
        .select_related("study", "site", "patient__user")
        .order_by("-created_at")
        .first()
    )


def consent_version_for(*, participant: Participant) -> ConsentVersion | None:
    """The newest consent text for the participant's site (or all sites) and language."""
    versions = ConsentVersion.objects.filter(study=participant.study).filter(
        Q(site=participant.site) | Q(site__isnull=True)
    )
    for language in (participant.language, "en"):
        found = versions.filter(language=language).order_by("-issued_at", "-site").first()
        if found is not None:
            return found
    return versions.order_by("-issued_at").first()


def email_unconfirmed(*, participant: Participant) -> bool:
    """A self-referred participant whose e-mail address nobody has confirmed yet: consent,
    and with it everything the study sends, waits until they open the link."""
    self_referred = ScreeningRecord.objects.filter(
        participant=participant, source=ScreeningRecord.Source.SELF
    ).exists()
    return self_referred and not email_confirmed(user=participant.patient.user)


def current_consent(*, participant: Participant):
    return participant.consents.filter(superseded_at__isnull=True).select_related("version").first()


def needs_reconsent(*, participant: Participant) -> bool:
    consent = current_consent(participant=participant)
    latest = consent_version_for(participant=participant)
    return consent is not None and latest is not None and consent.version_id != latest.pk


def study_schedule_rules(study: Study) -> ScheduleRules:
    schedule = study.definition.get("schedule", {})
    window = WindowRule(
        opens_days_before=schedule.get("opens_days_before", 7),
        closes_days_after=schedule.get("closes_days_after", 21),
    )
    return ScheduleRules(
        baseline_days_before=schedule.get("baseline_days_before", 7),
        program_weeks=schedule.get("program_weeks", 6),
        planned_start_delay_days=schedule.get("planned_start_delay_days", 7),
        post_window=window,
        follow_up_months=schedule.get("follow_up_months", 3),
        follow_up_window=window,
        reminder_every_days=schedule.get("reminder_every_days", 3),
        max_reminders=schedule.get("max_reminders", 3),
    )


def assessment_get_for_patient(*, user: User, timepoint: str) -> Assessment:
    participant = participation_for_patient(user=user)
    if participant is None:
        raise Http404
    assessment = participant.assessments.filter(timepoint=timepoint).first()
    if assessment is None:
        raise Http404
    return assessment


# --- study team numbers ----------------------------------------------------------------------


def slot_usage(*, user: User, study: Study) -> list[dict[str, Any]]:
    """Used and remaining slots per stratum: counts only, never the arm of a slot."""
    if _reach(user, Perm.STUDY_MANAGE) is None:
        raise PermissionDenied
    return [
        {"stratum": c.stratum, "used": c.used, "remaining": max(c.generated - c.used, 0)}
        for c in StratumCounter.objects.filter(study=study).order_by("stratum")
    ]


def recruitment_by_site(*, user: User, study: Study) -> list[dict[str, Any]]:
    rows = []
    participants = participants_for_user(user=user, study=study)
    randomised = Counter(
        participants.filter(allocation__isnull=False).values_list("site_id", flat=True)
    )
    screened = Counter(
        ScreeningRecord.objects.filter(study=study).values_list("site_id", flat=True)
    )
    for study_site in study_sites_for_user(user=user, study=study):
        rows.append(
            {
                "site": study_site.site,
                "target": study_site.target,
                "screened": screened.get(study_site.site_id, 0),
                "randomised": randomised.get(study_site.site_id, 0),
                "percent": round(100 * randomised.get(study_site.site_id, 0) / study_site.target)
                if study_site.target
                else 0,
            }
        )
    return rows


def consort_numbers(*, user: User, study: Study) -> dict[str, Any]:
    """The numbers of a CONSORT flow diagram, for the sites the person reaches."""
    sites = Site.objects.filter(_site_q(user, Perm.STUDY_VIEW))
    screenings = ScreeningRecord.objects.filter(study=study, site__in=sites)
    reasons: Counter[str] = Counter()
    for record in screenings.filter(eligible=False).values_list("reasons", flat=True):
        reasons.update(record)
    participants = Participant.objects.filter(study=study, site__in=sites)
    allocations = Allocation.objects.filter(study=study, participant__site__in=sites)
    arms = []
    for arm in study.definition["arms"]:
        in_arm = allocations.filter(arm=arm["code"])
        arms.append(
            {
                "code": arm["code"],
                "allocated": in_arm.count(),
                "withdrawn": in_arm.exclude(participant__withdrawal="").count(),
                "t1": in_arm.filter(
                    participant__assessments__timepoint="T1",
                    participant__assessments__completed_at__isnull=False,
                ).count(),
                "t2": in_arm.filter(
                    participant__assessments__timepoint="T2",
                    participant__assessments__completed_at__isnull=False,
                ).count(),
            }
        )
    return {
        "screened": screenings.count(),
        "excluded": screenings.filter(eligible=False).count(),
        "reasons": sorted(reasons.items()),
        "eligible": screenings.filter(eligible=True).count(),
        "consented": participants.filter(consents__isnull=False).distinct().count(),
        "randomised": allocations.count(),
        "arms": arms,
    }


def completeness(*, user: User, study: Study) -> list[dict[str, Any]]:
    """Per timepoint and instrument: how many assessments are due, how many were answered
    completely, and how many were sent in with items missing (``incomplete``)."""
    sites = Site.objects.filter(_site_q(user, Perm.STUDY_VIEW))
    rows = []
    assessments = Assessment.objects.filter(participant__study=study, participant__site__in=sites)
    expected = dict(
        assessments.values_list("timepoint").annotate(n=Count("id")).values_list("timepoint", "n")
    )
    # A response sent in with unanswered items is counted apart: it is not complete.
    submitted: Counter = Counter()
    incomplete: Counter = Counter()
    for timepoint_code, instrument_code, flags in Response.objects.filter(
        assessment__in=assessments, submitted_at__isnull=False
    ).values_list("assessment__timepoint", "instrument", "flags"):
        key = (timepoint_code, instrument_code)
        if "items_missing" in (flags or []):
            incomplete[key] += 1
        else:
            submitted[key] += 1
    for timepoint in study.definition["timepoints"]:
        for instrument in timepoint["instruments"]:
            due = expected.get(timepoint["code"], 0)
            done = submitted.get((timepoint["code"], instrument), 0)
            rows.append(
                {
                    "timepoint": timepoint["code"],
                    "instrument": instrument,
                    "expected": due,
                    "submitted": done,
                    "incomplete": incomplete.get((timepoint["code"], instrument), 0),
                    "percent": round(100 * done / due) if due else 0,
                }
            )
    return rows


def screening_log(*, user: User, study: Study) -> QuerySet[ScreeningRecord]:
    sites = Site.objects.filter(_site_q(user, Perm.PARTICIPANT_SCREEN))
    return (
        ScreeningRecord.objects.filter(study=study, site__in=sites)
        .select_related("site", "screened_by")
        .order_by("-screened_at", "-id")
    )


# --- public ------------------------------------------------------------------------------


def unfit_wording(study: Study) -> list[tuple[str, str, str]]:
    """(instrument, language, status) of every scheduled instrument whose wording in one of
    the study's languages is still draft or placeholder (replace it with the licensed or
    official version, ``manage.py load_instrument_text``)."""
    languages = sorted(
        {lang for site in study.definition.get("sites", []) for lang in site.get("languages", [])}
        or {"en"}
    )
    instruments = sorted(
        {code for t in study.definition.get("timepoints", []) for code in t.get("instruments", [])}
    )
    found = []
    for code in instruments:
        for language in languages:
            status = wording_status(code, language)
            if status in UNFIT_WORDING:
                found.append((code, language, status))
    return found


def study_recruiting(study: Study) -> bool:
    """Whether the study recruits: open, and every scheduled instrument has fit wording in
    each of its languages — unless the study is a demo or pilot (``demo_or_pilot``)."""
    if not study.is_open:
        return False
    return bool(study.definition.get("demo_or_pilot")) or not unfit_wording(study)


def public_studies() -> list[Study]:
    """Studies open for self-referral. Their slugs and titles are public by design."""
    with scopes_disabled():  # no person yet: the open study is the whole credential
        return [
            s for s in Study.objects.filter(is_open=True).order_by("slug") if study_recruiting(s)
        ]


def open_study_public(*, slug: str) -> Study:
    with scopes_disabled():  # as above; callers scope to the study's organisation at once
        study = Study.objects.filter(slug=slug, is_open=True).first()
    if study is None or not study_recruiting(study):
        raise Http404
    return study


def overdue_assessments(*, user: User, study: Study, now=None) -> QuerySet[Assessment]:
    """Assessments past their target day with the window still open: the ones to chase."""
    now = now or timezone.now()
    flt = _reach(user, Perm.PARTICIPANT_SCREEN)
    if flt is None:
        return Assessment.objects.none()
    reachable = Participant.objects.filter(study=study).filter(flt)
    return (
        Assessment.objects.filter(
            participant__in=reachable,
            completed_at__isnull=True,
            due_at__lte=now,
            closes_at__gt=now,
        )
        .exclude(participant__withdrawal__in=["questionnaires", "entirely"])
        .select_related("participant__patient__user", "participant__site")
        .order_by("due_at")
    )
