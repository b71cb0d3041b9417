"""Signing the consent (a PDF sealed by its hash) and the coordinator's countersignature."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm
from rarebridge.trials.models import Assessment, ConsentRecord, ConsentVersion, Participant
from rarebridge.trials.selectors import consent_version_for, email_unconfirmed, participant_allowed
from rarebridge.trials.services.assessments import timepoint_instruments
from rarebridge.trials.services.telling import participant_tell


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
    by: Actor | User,
) -> ConsentRecord:
    """The participant signs the current consent version for their site and language."""
    user = user_of(by)
    if user is None or participant.patient.user_id != user.pk:
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
                "instruments": timepoint_instruments(participant.study, "T0"),
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
        )
        participant_tell(
            participant=participant,
            template_key="study_consented",
            event=f"consent:{record.pk}",
            context={
                "when": signed_at,
                "countersignature": version.countersignature_required,
            },
        )
    return record


def consent_countersign(*, consent: ConsentRecord, by: Actor | User) -> ConsentRecord:
    """A site coordinator confirms the consent; the seal binds them to the signed PDF."""
    user = user_of(by)
    if user is None or not participant_allowed(
        user=user, site=consent.participant.site, perm=Perm.PARTICIPANT_SCREEN
    ):
        raise PermissionDenied
    with transaction.atomic():
        consent = ConsentRecord.objects.select_for_update().get(pk=consent.pk)
        if consent.countersigned_at is not None:
            return consent
        now = timezone.now()
        consent.countersigned_by = user
        consent.countersigned_at = now
        consent.countersign_pdf_sha256 = hashlib.sha256(
            f"{consent.pdf_sha256}|{user.pk}|{now.isoformat()}".encode()
        ).hexdigest()
        consent.save(
            update_fields=["countersigned_by", "countersigned_at", "countersign_pdf_sha256"]
        )
        audit_log(action="trials.consent.countersigned", actor=by, obj=consent)
        participant_tell(
            participant=consent.participant,
            template_key="study_countersigned",
            event=f"consent:{consent.pk}",
            context={"when": now, "signed": consent.signed_at},
        )
    return consent
