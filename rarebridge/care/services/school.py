"""Letters to a patient's school, from a template, in the family's language."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.care.content import letter_template
from rarebridge.care.models import SchoolLetter
from rarebridge.care.services._common import _record
from rarebridge.core.actor import Actor, user_of


@transaction.atomic
def letter_write(
    *,
    patient: PatientProfile,
    by: Actor | User,
    template: str,
    school: str,
    language: str | None = None,
) -> SchoolLetter:
    """A letter to the patient's school from a template, in the family's language."""
    writer = user_of(by)
    language = language or patient.user.language
    body, used = letter_template(key=template, language=language)
    text = body.format(
        school=school,
        name=patient.user.full_name,
        writer=writer.full_name,
        date=timezone.localdate().isoformat(),
    )
    letter = SchoolLetter.objects.create(
        organisation_id=patient.organisation_id,
        patient=patient,
        template=template,
        language=used,
        school=school,
        body=text,
        written_by=writer,
    )
    _record(
        action="care.letter.written",
        by=by,
        obj=letter,
        patient=patient,
        template=template,
        language=used,
    )
    return letter
