"""Every write of a study: loading it, screening, consent, randomisation, answers, withdrawal.

The order of a participant's way through a study is enforced here, not in pages: consent
before baseline, a complete baseline (T0) before randomisation, and no questionnaire
invitations after withdrawal from them.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.accounts.services import (
    email_confirmation_send,
    email_correct_unconfirmed,
    role_assign,
    user_create,
)
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm, Role
from rarebridge.counselling.services import assignment_end
from rarebridge.engines import allocation as engine
from rarebridge.engines.scoring import get_scorer
from rarebridge.engines.windows import TimepointWindow, assessment_schedule, invitation_times
from rarebridge.network.models import Organisation, Site
from rarebridge.notify.models import Channel
from rarebridge.notify.services import message_send
from rarebridge.programs.content import render_markdown
from rarebridge.programs.models import Enrolment, ProgramVersion
from rarebridge.programs.services import enrolment_start
from rarebridge.safety.services import concern_raise
from rarebridge.trials.content import EXCLUSION, StudyFileError, questionnaire, read_study
from rarebridge.trials.models import (
    Allocation,
    AllocationSlot,
    Assessment,
    AssessmentSend,
    ConsentRecord,
    ConsentVersion,
    Participant,
    Response,
    ResponseRevision,
    ScreeningRecord,
    StratumCounter,
    Study,
    StudySite,
)
from rarebridge.trials.selectors import (
    consent_version_for,
    email_unconfirmed,
    participant_allowed,
    study_schedule_rules,
)

SEQUENCE_CHUNK = 100  # slots appended to a generated stratum when it runs out


# --- loading a study ---------------------------------------------------------------------


def study_load(
    *, path: Path, organisation: Organisation | None = None, by: User | None = None
) -> tuple[Study, str]:
    """Check and store a study file. Returns the study and ``created``/``updated``/``unchanged``.

    A consent text that changes under an issued version number is refused: a new text needs a
    new version, and participants who signed the old one are asked to consent again.
    """
    content = read_study(path)
    data = content.definition
    if organisation is None:
        organisation = Organisation.objects.filter(slug=data.get("organisation")).first()
        if organisation is None:
            raise StudyFileError([f"no organisation {data.get('organisation')!r}"])
    sites = {s.name: s for s in Site.objects.filter(organisation=organisation)}
    missing = [s["name"] for s in data["sites"] if s["name"] not in sites]
    if missing:
        raise StudyFileError([f"no site named {name!r} in {organisation}" for name in missing])
    with transaction.atomic():
        study = (
            Study.objects.select_for_update()
            .filter(organisation=organisation, slug=data["slug"])
            .first()
        )
        if study is not None and study.checksum == content.checksum:
            return study, "unchanged"
        outcome = "updated" if study else "created"
        if study is not None and study.participants.exists():
            old = study.definition
            for key in ("arms", "allocation", "timepoints"):
                if old.get(key) != data.get(key):
                    raise StudyFileError(
                        [f"'{key}' cannot change once participants are screened in"]
                    )
        study = study or Study(organisation=organisation, slug=data["slug"])
        study.titles = data["title"]
        study.definition = data
        study.checksum = content.checksum
        study.save()
        for entry in data["sites"]:
            StudySite.objects.update_or_create(
                study=study,
                site=sites[entry["name"]],
                defaults={"target": entry["target"], "languages": entry.get("languages", [])},
            )
        _consent_versions_store(study=study, content_texts=content.consent_texts, sites=sites)
        if data["allocation"]["method"] == "blocks":
            for site_name in (s["name"] for s in data["sites"]):
                for diagnosis in (d["code"] for d in data["diagnoses"]):
                    key = engine.stratum_key(
                        factors=_factors(study, site_name=site_name, diagnosis=diagnosis)
                    )
                    _counter(study=study, stratum=key)
        audit_log(
            action=f"trials.study.{outcome}",
            actor=by,
            obj=study,
            payload={"checksum": content.checksum},
        )
    return study, outcome


def _consent_versions_store(
    *, study: Study, content_texts: dict[str, dict[str, str]], sites: dict[str, Site]
) -> None:
    consent = study.definition["consent"]
    version = str(consent["version"])
    now = timezone.now()
    for site_name, by_language in content_texts.items():
        site = None if site_name == "*" else sites[site_name]
        for language, markdown in by_language.items():
            sha = hashlib.sha256(markdown.encode()).hexdigest()
            existing = ConsentVersion.objects.filter(
                study=study, site=site, language=language, version=version
            ).first()
            if existing is not None:
                if existing.sha256 != sha:
                    raise StudyFileError(
                        [
                            f"consent v{version} ({site_name}, {language}) was issued with "
                            "another text: give the new text a new version"
                        ]
                    )
                continue
            ConsentVersion.objects.create(
                study=study,
                site=site,
                language=language,
                version=version,
                markdown=markdown,
                html=render_markdown(markdown),
                sha256=sha,
                comprehension=consent.get("comprehension", []),
                countersignature_required=bool(consent.get("countersignature_required")),
                issued_at=now,
            )


# --- screening -----------------------------------------------------------------------------


def eligibility_reasons(*, study: Study, answers: dict[str, Any]) -> list[str]:
    """Why someone cannot take part: codes of unmet inclusions and of exclusions that apply."""
    reasons = []
    diagnoses = {d["code"] for d in study.definition["diagnoses"]}
    if answers.get("diagnosis") not in diagnoses:
        reasons.append("no_confirmed_diagnosis")
    if not answers.get("adult"):
        reasons.append("under_age")
    if not answers.get("wants_support"):
        reasons.append("no_wish_for_support")
    for key in study.definition["eligibility"].get("exclusion", EXCLUSION):
        if answers.get(key):
            reasons.append(key)
    return reasons


@dataclass
class Contact:
    full_name: str
    email: str
    language: str
    time_zone: str
    password: str | None = None
    phone: str = ""


@dataclass
class ScreeningOutcome:
    record: ScreeningRecord
    participant: Participant | None
    user: User | None
    crisis: bool = field(default=False)


def screening_record(
    *,
    study: Study,
    site: Site,
    answers: dict[str, Any],
    contact: Contact | None,
    by: User | None,
    request: HttpRequest | None = None,
) -> ScreeningOutcome:
    """Screen one person. Self-referral when ``by`` is None, else referral by a coordinator.

    Every screening is logged with its reasons; only an eligible person's contact details are
    kept, as a new patient account at the site with a participant record.
    """
    if not study.study_sites.filter(site=site).exists() or not study.is_open:
        raise ValidationError(_("This site does not recruit for this study."), code="site")
    if by is not None and not participant_allowed(user=by, site=site, perm=Perm.PARTICIPANT_SCREEN):
        raise PermissionDenied
    answers = {k: answers.get(k) for k in ("diagnosis", "adult", "wants_support", *EXCLUSION)}
    reasons = eligibility_reasons(study=study, answers=answers)
    source = ScreeningRecord.Source.SELF if by is None else ScreeningRecord.Source.COORDINATOR
    eligible = not reasons
    if eligible and contact is None:
        raise ValidationError(_("Contact details are needed."), code="contact")
    with transaction.atomic():
        participant = user = None
        if eligible:
            assert contact is not None
            email = contact.email.strip().lower()
            if User.objects.filter(email__iexact=email).exists():
                raise ValidationError(
                    _("This e-mail address is already registered. Please sign in instead."),
                    code="email_taken",
                )
            user = user_create(
                email=email,
                full_name=contact.full_name.strip(),
                language=contact.language,
                time_zone=contact.time_zone or site.time_zone,
                password=contact.password,
                phone=contact.phone,
                by=by,
            )
            role_assign(
                user=user, role=Role.PATIENT, organisation=site.organisation, site=site, by=by
            )
            patient = PatientProfile.objects.get(user=user)
            participant = Participant.objects.create(
                organisation=study.organisation,
                study=study,
                site=site,
                patient=patient,
                diagnosis=answers["diagnosis"],
                language=contact.language,
            )
        record = ScreeningRecord.objects.create(
            organisation=study.organisation,
            study=study,
            site=site,
            source=source,
            eligible=eligible,
            # Only the criteria are kept: a screened-out person leaves no name behind.
            answers={k: v for k, v in answers.items() if k != "diagnosis" or eligible},
            reasons=reasons,
            participant=participant,
            screened_by=by,
            screened_at=timezone.now(),
        )
        if participant is not None and by is None:
            # Nobody has checked a self-referred person's address: a link confirms it first.
            assert user is not None
            email_confirmation_send(user=user, then=reverse("trials_patient:home"), request=request)
        audit_log(
            action="trials.participant.screened",
            actor=by,
            obj=record,
            payload={"eligible": eligible, "reasons": reasons, "source": str(source)},
            request=request,
        )
    return ScreeningOutcome(
        record=record,
        participant=participant,
        user=user,
        crisis="acute_suicidality" in reasons,
    )


def participant_email_confirmation_resend(
    *, participant: Participant, by: User, request: HttpRequest | None = None
) -> bool:
    """Send a self-referred participant a new confirmation link; False when nothing waits
    for one (the address is confirmed, or a coordinator referred them)."""
    if participant.patient.user_id != by.pk:
        raise PermissionDenied
    if not email_unconfirmed(participant=participant):
        return False
    return email_confirmation_send(user=by, then=reverse("trials_patient:home"), request=request)


def participant_email_correct(
    *, participant: Participant, email: str, by: User, request: HttpRequest | None = None
) -> None:
    """A self-referred participant corrects the address they typed, before confirming it."""
    if participant.patient.user_id != by.pk or not email_unconfirmed(participant=participant):
        raise PermissionDenied
    email_correct_unconfirmed(
        user=by, email=email, then=reverse("trials_patient:home"), request=request
    )


# --- consent -------------------------------------------------------------------------------


def _same_name(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).casefold().split())

    return bool(norm(a)) and norm(a) == norm(b)


def consent_pdf(*, consent_version: ConsentVersion, typed_name: str, signed_at: datetime) -> bytes:
    """The signed consent as a PDF, made once at signing and never again."""
    from weasyprint import HTML

    html = render_to_string(
        "trials/consent_pdf.html",
        {
            "version": consent_version,
            "typed_name": typed_name,
            "signed_at": signed_at.astimezone(UTC),
        },
    )
    return HTML(string=html).write_pdf()


def consent_sign(
    *,
    participant: Participant,
    typed_name: str,
    comprehension: dict[str, str],
    by: User,
    request: HttpRequest | None = None,
) -> ConsentRecord:
    """The participant signs the current consent version for their site and language."""
    if participant.patient.user_id != by.pk:
        raise PermissionDenied
    if participant.status == Participant.Status.WITHDRAWN:
        raise ValidationError(_("You have left the study."), code="withdrawn")
    if email_unconfirmed(participant=participant):
        raise ValidationError(
            _("Please confirm your e-mail address first: open the link we sent you."),
            code="email_unconfirmed",
        )
    version = consent_version_for(participant=participant)
    if version is None:
        raise ValidationError(_("No consent text is available yet."), code="no_version")
    errors = {}
    for question in version.comprehension:
        if comprehension.get(question["id"]) != question["correct"]:
            errors[f"q_{question['id']}"] = _(
                "Please read this part of the information again: the answer is not right yet."
            )
    if not _same_name(typed_name, participant.patient.user.full_name):
        errors["typed_name"] = _("Please type your full name exactly as registered.")
    if errors:
        raise ValidationError(errors)
    signed_at = timezone.now()
    pdf = consent_pdf(consent_version=version, typed_name=typed_name.strip(), signed_at=signed_at)
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        ConsentRecord.objects.filter(participant=participant, superseded_at__isnull=True).update(
            superseded_at=signed_at
        )
        record = ConsentRecord.objects.create(
            organisation_id=participant.organisation_id,
            participant=participant,
            version=version,
            typed_name=typed_name.strip(),
            comprehension=comprehension,
            signed_at=signed_at,
            pdf=pdf,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        )
        if participant.status == Participant.Status.ELIGIBLE:
            participant.status = Participant.Status.CONSENTED
            participant.save(update_fields=["status", "updated_at"])
        Assessment.objects.get_or_create(
            participant=participant,
            timepoint="T0",
            defaults={
                "organisation_id": participant.organisation_id,
                "instruments": _instruments(participant.study, "T0"),
                "opens_at": signed_at,
            },
        )
        audit_log(
            action="trials.consent.signed",
            actor=by,
            obj=record,
            payload={
                "version": version.version,
                "language": version.language,
                "pdf_sha256": record.pdf_sha256,
            },
            request=request,
        )
    return record


def consent_countersign(
    *, consent: ConsentRecord, by: User, request: HttpRequest | None = None
) -> ConsentRecord:
    """A site coordinator confirms the consent; the seal binds them to the signed PDF."""
    if not participant_allowed(
        user=by, site=consent.participant.site, perm=Perm.PARTICIPANT_SCREEN
    ):
        raise PermissionDenied
    with transaction.atomic():
        consent = ConsentRecord.objects.select_for_update().get(pk=consent.pk)
        if consent.countersigned_at is not None:
            return consent
        now = timezone.now()
        consent.countersigned_by = by
        consent.countersigned_at = now
        consent.countersign_pdf_sha256 = hashlib.sha256(
            f"{consent.pdf_sha256}|{by.pk}|{now.isoformat()}".encode()
        ).hexdigest()
        consent.save(
            update_fields=["countersigned_by", "countersigned_at", "countersign_pdf_sha256"]
        )
        audit_log(action="trials.consent.countersigned", actor=by, obj=consent, request=request)
    return consent


# --- randomisation -------------------------------------------------------------------------


class RandomisationRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def allocation_secret(study: Study) -> bytes:
    configured = settings.TRIALS_ALLOCATION_SECRET
    base = configured.encode() if configured else settings.SECRET_KEY.encode()
    return hmac.new(base, f"rarebridge.trials.allocation:{study.slug}".encode(), "sha256").digest()


def _factors(study: Study, *, site_name: str, diagnosis: str) -> dict[str, str]:
    values = {"site": site_name, "diagnosis": diagnosis}
    return {name: values[name] for name in study.definition["allocation"].get("strata", [])}


def _ratio(study: Study) -> engine.AllocationRatio:
    return engine.AllocationRatio.from_weights(
        {arm["code"]: arm["ratio"] for arm in study.definition["arms"]}
    )


def _design(study: Study) -> engine.BlockDesign:
    multipliers = tuple(study.definition["allocation"].get("block_multipliers", (1, 2, 3)))
    return engine.BlockDesign(ratio=_ratio(study), multipliers=multipliers)


def _append_generated(study: Study, counter: StratumCounter, length: int) -> None:
    sequence = engine.generate_sequence(
        secret=allocation_secret(study),
        stratum_key=counter.stratum,
        design=_design(study),
        length=length,
    )
    AllocationSlot.objects.bulk_create(
        AllocationSlot(
            study=study,
            stratum=counter.stratum,
            index=slot.index,
            block=slot.block,
            block_size=slot.block_size,
            arm=slot.arm,
            source=AllocationSlot.Source.SEQUENCE,
        )
        for slot in sequence[counter.generated :]
    )
    counter.generated = length
    counter.save(update_fields=["generated"])


def _counter(*, study: Study, stratum: str) -> StratumCounter:
    """The stratum's counter, created (with its first generated slots) on first use."""
    counter = StratumCounter.objects.filter(study=study, stratum=stratum).first()
    if counter is not None:
        return counter
    try:
        with transaction.atomic():
            counter = StratumCounter.objects.create(study=study, stratum=stratum)
            if study.definition["allocation"]["method"] == "blocks":
                length = study.definition["allocation"].get("slots_per_stratum", SEQUENCE_CHUNK)
                _append_generated(study, counter, length)
    except IntegrityError:  # someone else created it at the same moment
        counter = StratumCounter.objects.get(study=study, stratum=stratum)
    return counter


def randomisation_blockers(*, participant: Participant) -> list[tuple[str, str]]:
    """Why the participant cannot be randomised now, as (code, message); empty when ready."""
    blockers = []
    if hasattr(participant, "allocation"):
        return [("already_randomised", _("This participant is already randomised."))]
    if participant.status == Participant.Status.WITHDRAWN:
        return [("withdrawn", _("This participant has withdrawn."))]
    consent = (
        participant.consents.filter(superseded_at__isnull=True).select_related("version").first()
    )
    if consent is None:
        blockers.append(("no_consent", _("The participant has not consented yet.")))
    elif not consent.is_complete:
        blockers.append(("no_countersignature", _("The consent awaits the countersignature.")))
    elif consent.version_id != getattr(consent_version_for(participant=participant), "pk", None):
        blockers.append(("reconsent_needed", _("A new consent version needs to be signed.")))
    baseline = participant.assessments.filter(timepoint="T0").first()
    if baseline is None or baseline.completed_at is None:
        blockers.append(
            ("baseline_missing", _("The baseline questionnaires (T0) are not complete."))
        )
    return blockers


def _offer_program_after_follow_up(*, participant: Participant, by) -> None:
    """Control arm of a study that offers it: the program starts once T2 is complete."""
    allocation = getattr(participant, "allocation", None)
    if allocation is None or participant.withdrawal in ("program", "entirely"):
        return
    arm = participant.study.arm(allocation.arm)
    if arm["receives_program"] or not arm.get("program_after_t2"):
        return
    if Enrolment.objects.filter(patient=participant.patient, status="active").exists():
        return
    enrolment_start(
        patient=participant.patient,
        version=_program_version(participant.study),
        start_date=_local_today(participant),
        by=by,
    )
    audit_log(
        action="trials.participant.program_offered",
        actor=by,
        obj=participant,
        payload={"after": "T2"},
    )


def participant_randomise(
    *, participant: Participant, by: User | None, request: HttpRequest | None = None
) -> Allocation:
    """Allocate the next concealed slot of the participant's stratum.

    Everything happens in one transaction: the allocation, the schedule and (intervention
    arm) the enrolment are stored together or not at all.
    """
    if by is not None and not participant_allowed(
        user=by, site=participant.site, perm=Perm.PARTICIPANT_RANDOMISE
    ):
        raise PermissionDenied
    study = participant.study
    method = study.definition["allocation"]["method"]
    factors = _factors(study, site_name=participant.site.name, diagnosis=participant.diagnosis)
    stratum = engine.stratum_key(factors=factors)
    if method != "minimisation":
        _counter(study=study, stratum=stratum)
    else:
        _counter(study=study, stratum=engine.UNSTRATIFIED)
    with transaction.atomic():
        participant = (
            Participant.objects.select_for_update(of=("self",))
            .select_related("study", "site", "patient__user")
            .get(pk=participant.pk)
        )
        blockers = randomisation_blockers(participant=participant)
        if blockers:
            code, message = blockers[0]
            raise RandomisationRefused(code, message)
        now = timezone.now()
        if method == "minimisation":
            arm, slot_index = _minimise(study=study, factors=factors), None
        else:
            counter = StratumCounter.objects.select_for_update().get(study=study, stratum=stratum)
            if counter.used >= counter.generated:
                if method != "blocks":
                    raise RandomisationRefused(
                        "sequence_exhausted",
                        _("The allocation table has no slot left for this stratum."),
                    )
                _append_generated(study, counter, counter.generated + SEQUENCE_CHUNK)
            slot = AllocationSlot.objects.get(study=study, stratum=stratum, index=counter.used + 1)
            StratumCounter.objects.filter(pk=counter.pk).update(used=F("used") + 1)
            arm, slot_index = slot.arm, slot.index
        allocation = Allocation.objects.create(
            organisation_id=participant.organisation_id,
            participant=participant,
            study=study,
            arm=arm,
            stratum=stratum,
            factors=factors,
            slot_index=slot_index,
            method=Allocation.Method(method),
            randomised_at=now,
            randomised_by=by,
        )
        participant.status = Participant.Status.RANDOMISED
        participant.save(update_fields=["status", "updated_at"])
        _after_allocation(participant=participant, allocation=allocation, by=by)
        audit_log(
            action="trials.participant.randomised",
            actor=by,
            obj=participant,
            payload={"stratum": stratum, "slot": slot_index, "method": method},
            request=request,
        )
    return allocation


def _minimise(*, study: Study, factors: dict[str, str]) -> str:
    # The study-wide counter row serialises minimisation: each choice sees all earlier ones.
    lock = StratumCounter.objects.select_for_update().get(study=study, stratum=engine.UNSTRATIFIED)
    earlier = Allocation.objects.filter(study=study).values_list("factors", "arm")
    counts = engine.minimisation_counts(allocations=list(earlier))
    design = engine.MinimisationDesign(
        ratio=_ratio(study),
        factor_weights=dict.fromkeys(factors, 1),
        p=float(study.definition["allocation"].get("minimisation_p", 0.8)),
    )
    seed = hmac.new(allocation_secret(study), str(lock.used).encode(), "sha256").digest()
    result = engine.minimise(
        factors=factors,
        counts=counts,
        design=design,
        rng=random.Random(seed),  # noqa: S311
    )
    StratumCounter.objects.filter(pk=lock.pk).update(used=F("used") + 1)
    return result.arm


def _instruments(study: Study, timepoint: str) -> list[str]:
    return next(t["instruments"] for t in study.definition["timepoints"] if t["code"] == timepoint)


def _local_today(participant: Participant):
    return timezone.now().astimezone(ZoneInfo(participant.patient.user.time_zone)).date()


def _after_allocation(*, participant: Participant, allocation: Allocation, by) -> None:
    study = participant.study
    arm = study.arm(allocation.arm)
    program_start = None
    if arm["receives_program"]:
        program_start = _local_today(participant)
        version = _program_version(study)
        enrolment_start(
            patient=participant.patient, version=version, start_date=program_start, by=by
        )
    schedule_assessments(
        participant=participant, randomised_at=allocation.randomised_at, program_start=program_start
    )


def _program_version(study: Study) -> ProgramVersion:
    program = study.definition.get("program", {})
    version = ProgramVersion.objects.filter(
        program__slug=program.get("slug"), version=program.get("version")
    ).first()
    if version is None:
        raise RandomisationRefused(
            "no_program", _("The study's program is not loaded; nothing was allocated.")
        )
    return version


def schedule_assessments(
    *, participant: Participant, randomised_at: datetime, program_start=None
) -> list[Assessment]:
    """Close T0 at randomisation and create T1 and T2 with their windows (idempotent)."""
    rules = study_schedule_rules(participant.study)
    t0, t1, t2 = assessment_schedule(
        randomised_at=randomised_at,
        program_start=program_start,
        time_zone=participant.patient.user.time_zone,
        rules=rules,
    )
    Assessment.objects.filter(participant=participant, timepoint="T0").update(
        closes_at=t0.closes_at, due_at=t0.due_at
    )
    existing = {
        a.timepoint: a
        for a in Assessment.objects.filter(participant=participant, timepoint__in=["T1", "T2"])
    }
    made: list[Assessment] = []
    new: list[Assessment] = []
    for window in (t1, t2):
        assessment = existing.get(window.code) or Assessment(
            participant=participant,
            timepoint=window.code,
            organisation_id=participant.organisation_id,
            instruments=_instruments(participant.study, window.code),
        )
        assessment.opens_at = window.opens_at
        assessment.due_at = window.due_at
        assessment.closes_at = window.closes_at
        if assessment.pk is None:
            new.append(assessment)
        else:
            assessment.save(update_fields=["opens_at", "due_at", "closes_at"])
        made.append(assessment)
    Assessment.objects.bulk_create(new)
    return made


def allocation_table_load(*, study: Study, text: str, by: User) -> int:
    """Import a statistician's REDCap-style allocation table; taken whole or not at all."""
    if study.definition["allocation"]["method"] != "table":
        raise ValidationError(_("This study does not use an allocation table."))
    strata = study.definition["allocation"].get("strata", [])
    levels = {
        "site": [s["name"] for s in study.definition["sites"]],
        "diagnosis": [d["code"] for d in study.definition["diagnoses"]],
    }
    table = engine.allocation_table_import(
        text=text,
        arm_column="arm",
        arms=[a["code"] for a in study.definition["arms"]],
        factors={name: levels[name] for name in strata},
    )
    with transaction.atomic():
        if Allocation.objects.filter(study=study).exists():
            raise ValidationError(_("Randomisation has started; the table cannot be replaced."))
        AllocationSlot.objects.filter(study=study).delete()
        StratumCounter.objects.filter(study=study).delete()
        for key, slots in table.strata.items():
            StratumCounter.objects.create(study=study, stratum=key, generated=len(slots))
            AllocationSlot.objects.bulk_create(
                AllocationSlot(
                    study=study,
                    stratum=key,
                    index=slot.index,
                    arm=slot.arm,
                    source=AllocationSlot.Source.TABLE,
                )
                for slot in slots
            )
        audit_log(
            action="trials.allocation_table.imported",
            actor=by,
            obj=study,
            payload={"slots": table.slot_count, "strata": len(table.strata)},
        )
    return table.slot_count


# --- answers -------------------------------------------------------------------------------


@dataclass
class SaveResult:
    status: str  # "saved" | "conflict" | "invalid"
    revision: int
    errors: dict[str, str]
    current: dict[str, Any] | None = None


def _valid_values(instrument: str) -> dict[str, set[int]]:
    form = questionnaire(instrument, "en")
    return {item.link_id: {o.value for o in item.options} for item in form.questions}


def response_for(*, assessment: Assessment, instrument: str) -> Response:
    if instrument not in assessment.instruments:
        raise ValidationError(_("This questionnaire is not part of this assessment."))
    response, _created = Response.objects.get_or_create(
        assessment=assessment,
        instrument=instrument,
        defaults={"organisation_id": assessment.organisation_id},
    )
    return response


def _check_open(assessment: Assessment) -> None:
    participant = assessment.participant
    if participant.questionnaires_stopped:
        raise ValidationError(_("You have stopped the questionnaires."), code="withdrawn")
    now = timezone.now()
    if now < assessment.opens_at or (assessment.closes_at and now >= assessment.closes_at):
        raise ValidationError(_("This questionnaire is not open."), code="closed")


def response_save(
    *,
    response: Response,
    answers: dict[str, Any],
    base_revision: int,
    by: User,
    client_id: str = "",
) -> SaveResult:
    """Autosave: store the answers as a new revision, unless someone saved in between."""
    valid = _valid_values(response.instrument)
    clean: dict[str, int] = {}
    errors: dict[str, str] = {}
    for key, value in answers.items():
        if key not in valid:
            errors[key] = _("Unknown question.")
            continue
        if value in (None, ""):
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number not in valid[key]:
            errors[key] = _("Please choose one of the answers.")
        else:
            clean[key] = number
    if errors:
        return SaveResult("invalid", response.revision, errors)
    with transaction.atomic():
        response = Response.objects.select_for_update().get(pk=response.pk)
        _check_open(response.assessment)
        if response.submitted_at is not None:
            return SaveResult("conflict", response.revision, {}, response.answers)
        if base_revision != response.revision:
            return SaveResult("conflict", response.revision, {}, response.answers)
        on_behalf = response.assessment.participant.patient.user_id != by.pk
        response.answers = clean
        response.revision += 1
        response.entered_by = by
        response.on_behalf = response.on_behalf or on_behalf
        response.save()
        ResponseRevision.objects.create(
            response=response,
            number=response.revision,
            answers=clean,
            saved_at=timezone.now(),
            saved_by=by,
        )
    return SaveResult("saved", response.revision, {})


@dataclass
class SubmitResult:
    response: Response
    crisis: bool


def response_submit(
    *, response: Response, by: User, request: HttpRequest | None = None
) -> SubmitResult:
    """Score the answers with the engine and close the response. A risk answer is told to a
    person at once: item 9 of the PHQ-9 above 0 raises a concern, whatever the total."""
    study = response.assessment.participant.study
    scoring = study.definition["scoring"]
    safety = study.definition["safety"]
    with transaction.atomic():
        response = (
            Response.objects.select_for_update(of=("self",))
            .select_related("assessment__participant__patient__user")
            .get(pk=response.pk)
        )
        assessment = response.assessment
        participant = assessment.participant
        _check_open(assessment)
        if response.submitted_at is not None:
            return SubmitResult(response, "risk_item_positive" in response.flags)
        scorer = get_scorer(response.instrument)
        options = scorer.parse_options(scoring["instrument_options"].get(response.instrument))
        result = scorer.score(response.answers, options)
        response.scores = {
            name: {
                "value": s.value,
                "status": str(s.status),
                "band": s.band,
                "missing_rule": s.missing_rule,
            }
            for name, s in result.scores.items()
        }
        response.algorithm = result.algorithm
        response.scoring_options = result.options.to_dict()
        flags = set(result.flags)
        total = result.values.get("total")
        threshold = safety.get(f"{response.instrument}_total_at_least")
        if threshold is not None and total is not None and total >= threshold:
            flags.add("total_at_threshold")
        response.flags = sorted(flags)
        response.submitted_at = timezone.now()
        if participant.patient.user_id != by.pk:
            response.on_behalf = True
            response.entered_by = by
        response.save()
        crisis = response.instrument == "phq9" and "risk_item_positive" in flags
        if crisis and safety.get("phq9_item9_positive", True):
            concern_raise(
                patient=participant.patient,
                level="high",
                observed=_("PHQ-9 item 9 answered above 0 at {timepoint} (answer {value}).").format(
                    timepoint=assessment.timepoint, value=response.answers.get("phq9-9")
                ),
                by=None,
                source="questionnaire",
            )
        elif "total_at_threshold" in flags:
            concern_raise(
                patient=participant.patient,
                level="medium",
                observed=_(
                    "{instrument} total {total} at {timepoint} reached the study threshold."
                ).format(
                    instrument=response.instrument.upper(),
                    total=total,
                    timepoint=assessment.timepoint,
                ),
                by=None,
                source="questionnaire",
            )
        done = set(
            assessment.responses.filter(submitted_at__isnull=False).values_list(
                "instrument", flat=True
            )
        )
        if assessment.completed_at is None and done >= set(assessment.instruments):
            assessment.completed_at = response.submitted_at
            assessment.save(update_fields=["completed_at"])
            if assessment.timepoint == "T2":
                _offer_program_after_follow_up(participant=participant, by=by)
        audit_log(
            action="trials.response.submitted",
            actor=by,
            obj=response,
            payload={
                "algorithm": response.algorithm,
                "flags": response.flags,
                "on_behalf": response.on_behalf,
            },
            request=request,
        )
    return SubmitResult(response, crisis)


# --- invitations ---------------------------------------------------------------------------


def assessment_invitations_due(now: datetime | None = None) -> int:
    """Send due invitations and reminders for open assessments. Idempotent: each
    (assessment, number) is sent once, and a completed or withdrawn one gets nothing."""
    now = now or timezone.now()
    sent = 0
    candidates = (
        Assessment.objects.filter(
            completed_at__isnull=True,
            opens_at__lte=now,
            closes_at__gt=now,
            participant__status=Participant.Status.RANDOMISED,
        )
        .exclude(participant__withdrawal__in=["questionnaires", "entirely"])
        .select_related("participant__study", "participant__patient__user")
    )
    for assessment in candidates:
        # The filter above guarantees both instants; T0 (open-ended) never gets here.
        assert assessment.due_at is not None and assessment.closes_at is not None
        participant = assessment.participant
        user = participant.patient.user
        rules = study_schedule_rules(participant.study)
        send_time = time.fromisoformat(
            participant.study.definition["schedule"].get("send_time", "10:00")
        )
        window = TimepointWindow(
            code=assessment.timepoint,
            # The target day is the local day that ends at ``due_at``.
            target=(assessment.due_at - timedelta(seconds=1))
            .astimezone(ZoneInfo(user.time_zone))
            .date(),
            opens_at=assessment.opens_at,
            due_at=assessment.due_at,
            closes_at=assessment.closes_at,
        )
        for send in invitation_times(
            window=window, time_zone=user.time_zone, send_time=send_time, rules=rules
        ):
            if send.at > now:
                break
            with transaction.atomic():
                _send, created = AssessmentSend.objects.get_or_create(
                    assessment=assessment, number=send.number, defaults={"sent_at": now}
                )
                if not created:
                    continue
                message_send(
                    recipient=user,
                    template_key="study_questionnaire",
                    context={
                        "name": user.display_name,
                        "study": participant.study.title,
                        "timepoint": assessment.timepoint,
                        "due": assessment.due_at,
                        "reminder": send.number > 0,
                        "path": reverse("trials_patient:home"),
                    },
                    idempotency_key=f"trials.assessment:{assessment.pk}:{send.number}",
                    channels=(Channel.EMAIL, Channel.IN_APP),
                )
                audit_log(
                    action="trials.assessment.invited",
                    obj=assessment,
                    payload={"number": send.number},
                )
                sent += 1
    return sent


# --- withdrawal ----------------------------------------------------------------------------


def participant_withdraw(
    *,
    participant: Participant,
    level: str,
    by: User,
    delete_data: bool = False,
    request: HttpRequest | None = None,
) -> Participant:
    """Withdraw at one of three levels; each changes what happens next.

    ``program``: the enrolment ends, questionnaires go on. ``questionnaires``: no more
    invitations or answers, the program goes on. ``entirely``: both; with ``delete_data`` (where
    the consent allows it) the answers are deleted. The allocation and the consent record stay,
    as the trial must report everyone randomised and show that consent was given.
    """
    level = Participant.Withdrawal(level)
    if level == Participant.Withdrawal.NONE:
        raise ValidationError(_("Please choose what to withdraw from."))
    own = participant.patient.user_id == by.pk
    if not own and not participant_allowed(
        user=by, site=participant.site, perm=Perm.PARTICIPANT_SCREEN
    ):
        raise PermissionDenied
    allows_deletion = bool(
        participant.study.definition["consent"].get("allows_deletion_on_withdrawal")
    )
    if delete_data and (level != Participant.Withdrawal.ENTIRELY or not allows_deletion):
        raise ValidationError(_("Data can be deleted only when leaving the study entirely."))
    with transaction.atomic():
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        order = [None, "", "program", "questionnaires", "entirely"]
        current = participant.withdrawal
        if {current, level} == {"program", "questionnaires"}:
            level = Participant.Withdrawal.ENTIRELY
        elif order.index(current) > order.index(level):
            level = Participant.Withdrawal(current)
        participant.withdrawal = level
        participant.withdrawn_at = timezone.now()
        if level == Participant.Withdrawal.ENTIRELY:
            participant.status = Participant.Status.WITHDRAWN
        participant.save(update_fields=["withdrawal", "withdrawn_at", "status", "updated_at"])
        if level in (Participant.Withdrawal.PROGRAM, Participant.Withdrawal.ENTIRELY):
            Enrolment.objects.filter(
                patient=participant.patient, status=Enrolment.Status.ACTIVE
            ).update(status=Enrolment.Status.WITHDRAWN)
            # No more calls: the counsellor's caseload frees up and no reminder goes out.
            assignment_end(patient=participant.patient, by=by, reason="withdrew from the program")
        deleted = 0
        if delete_data:
            deleted, _details = Response.objects.filter(
                assessment__participant=participant
            ).delete()
        audit_log(
            action="trials.participant.withdrawn",
            actor=by,
            obj=participant,
            payload={"level": str(level), "deleted": deleted, "by_participant": own},
            request=request,
        )
    return participant


# Instruments from elsewhere ---------------------------------------------------------------------


def instrument_text_load(
    *, instrument: str, language: str, data: dict, official: bool = False, by=None
):
    """Load a deployment's licensed (or official) wording for one instrument and language.
    Refuses the whole file, changing nothing, when anything is wrong. Loading the same file
    twice changes nothing. Returns (row, created, placeholders still left)."""
    import hashlib
    import json as _json

    from rarebridge.trials.content import _questionnaire_json
    from rarebridge.trials.external import ExternalError, check_instrument_text, placeholders_left
    from rarebridge.trials.models import InstrumentText

    questionnaire = _questionnaire_json(instrument)
    problems = check_instrument_text(
        questionnaire=questionnaire, instrument=instrument, language=language, data=data
    )
    if problems:
        raise ExternalError(problems)
    digest = hashlib.sha256(
        _json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    with transaction.atomic():
        row, created = InstrumentText.objects.get_or_create(
            instrument=instrument,
            language=language,
            sha256=digest,
            defaults={
                "source": data["source"],
                "items": data.get("items", {}),
                "answers": data.get("answers", {}),
                "provenance": "official" if official else "licensed",
            },
        )
        if created:
            audit_log(
                action="trials.instrument_text.loaded",
                actor=by,
                obj=row,
                payload={
                    "instrument": instrument,
                    "language": language,
                    "sha256": digest,
                    "source": data["source"],
                },
            )
    return row, created, placeholders_left(questionnaire=questionnaire, texts=row.items)


def external_questionnaire_import(*, data: dict, instrument: str, by=None):
    """Map an external SDC questionnaire onto one of ours and keep the mapping."""
    from rarebridge.trials.content import _questionnaire_json
    from rarebridge.trials.external import map_external
    from rarebridge.trials.models import ExternalQuestionnaire

    mapping = map_external(
        external=data, ours=_questionnaire_json(instrument), instrument=instrument
    )
    with transaction.atomic():
        row, _created = ExternalQuestionnaire.objects.update_or_create(
            url=mapping.url or f"urn:external:{instrument}",
            defaults={
                "instrument": instrument,
                "link_ids": mapping.link_ids,
                "answers": mapping.answers,
            },
        )
        audit_log(
            action="trials.external_questionnaire.imported",
            actor=by,
            obj=row,
            payload={"instrument": instrument, "items": len(mapping.link_ids)},
        )
    return row
