"""Loading a study file, and screening people into it (self-referral or a coordinator's)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
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
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm, Role
from rarebridge.engines import allocation as engine
from rarebridge.network.models import Organisation, Site
from rarebridge.programs.content import render_markdown
from rarebridge.trials.content import EXCLUSION, StudyFileError, read_study
from rarebridge.trials.models import ConsentVersion, Participant, ScreeningRecord, Study, StudySite
from rarebridge.trials.selectors import email_unconfirmed, participant_allowed, study_recruiting
from rarebridge.trials.services.randomisation import strata_factors, stratum_counter

# --- loading a study ---------------------------------------------------------------------


def study_load(
    *, path: Path, organisation: Organisation | None = None, by: Actor | User | None = None
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
                        factors=strata_factors(study, site_name=site_name, diagnosis=diagnosis)
                    )
                    stratum_counter(study=study, stratum=key)
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
    by: Actor | User | None,
) -> ScreeningOutcome:
    """Screen one person. Self-referral when nobody is signed in behind ``by`` (None, or an
    anonymous visitor's Actor), else referral by a coordinator.

    Every screening is logged with its reasons; only an eligible person's contact details are
    kept, as a new patient account at the site with a participant record.
    """
    if not study.study_sites.filter(site=site).exists() or not study_recruiting(study):
        raise ValidationError(_("This site does not recruit for this study."), code="site")
    screener = user_of(by)
    if screener is not None and not participant_allowed(
        user=screener, site=site, perm=Perm.PARTICIPANT_SCREEN
    ):
        raise PermissionDenied
    answers = {k: answers.get(k) for k in ("diagnosis", "adult", "wants_support", *EXCLUSION)}
    reasons = eligibility_reasons(study=study, answers=answers)
    source = ScreeningRecord.Source.SELF if screener is None else ScreeningRecord.Source.COORDINATOR
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
                by=screener,
            )
            role_assign(
                user=user, role=Role.PATIENT, organisation=site.organisation, site=site, by=screener
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
            screened_by=screener,
            screened_at=timezone.now(),
        )
        if participant is not None and screener is None:
            # Nobody has checked a self-referred person's address: a link confirms it first.
            assert user is not None
            email_confirmation_send(user=user, then=reverse("trials_patient:home"), by=by)
        audit_log(
            action="trials.participant.screened",
            actor=by,
            obj=record,
            payload={"eligible": eligible, "reasons": reasons, "source": str(source)},
        )
    return ScreeningOutcome(
        record=record,
        participant=participant,
        user=user,
        crisis="acute_suicidality" in reasons,
    )


def participant_email_confirmation_resend(*, participant: Participant, by: Actor | User) -> bool:
    """Send a self-referred participant a new confirmation link; False when nothing waits
    for one (the address is confirmed, or a coordinator referred them)."""
    user = user_of(by)
    if user is None or participant.patient.user_id != user.pk:
        raise PermissionDenied
    if not email_unconfirmed(participant=participant):
        return False
    return email_confirmation_send(user=user, then=reverse("trials_patient:home"), by=by)


def participant_email_correct(*, participant: Participant, email: str, by: Actor | User) -> None:
    """A self-referred participant corrects the address they typed, before confirming it."""
    user = user_of(by)
    if user is None or participant.patient.user_id != user.pk:
        raise PermissionDenied
    if not email_unconfirmed(participant=participant):
        raise PermissionDenied
    email_correct_unconfirmed(user=user, email=email, then=reverse("trials_patient:home"), by=by)
