"""Every write about programs: loading versions, enrolling, saving answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile
from rarebridge.core.audit import audit_log
from rarebridge.programs.answers import clean_answers, missing_required
from rarebridge.programs.content import ProgramContent, read_program
from rarebridge.programs.models import (
    AnswerRevision,
    Chapter,
    Enrolment,
    Exercise,
    ExerciseAnswer,
    Guideline,
    Program,
    ProgramVersion,
)


class VersionFrozen(Exception):
    """A loaded version has enrolments and the new files change its structure."""


def program_version_load(*, path: Path, by=None) -> tuple[ProgramVersion, str]:
    """Check and store a version folder. Returns the version and what happened:
    ``created``, ``updated`` (text changes) or ``unchanged``. Raises ContentError with every
    problem, or VersionFrozen; in both cases the stored program is untouched."""
    content = read_program(path)
    with transaction.atomic():
        program, _created = Program.objects.get_or_create(
            slug=content.slug, defaults={"titles": content.program["title"]}
        )
        existing = (
            ProgramVersion.objects.select_for_update()
            .filter(program=program, version=content.version)
            .first()
        )
        if existing and existing.checksum == content.checksum:
            return existing, "unchanged"
        if existing and existing.structure != content.structure and existing.enrolments.exists():
            raise VersionFrozen(
                f"{content.slug} v{content.version} has enrolments; changes to weeks, exercises, fields, "
                "choices or checklist ids need a new version folder."
            )
        outcome = "updated" if existing else "created"
        version = existing or ProgramVersion(program=program, version=content.version)
        _store(version, content)
        program.titles = content.program["title"]
        program.save(update_fields=["titles", "updated_at"])
        audit_log(
            action=f"programs.version.{outcome}",
            actor=by,
            obj=version,
            payload={"checksum": content.checksum, "languages": content.program["languages"]},
        )
    return version, outcome


def _store(version: ProgramVersion, content: ProgramContent) -> None:
    definition = content.program
    version.definition = definition
    version.languages = definition["languages"]
    version.review = definition.get("review", {})
    version.checksum = content.checksum
    version.structure = content.structure
    version.weeks = len(definition["weeks"])
    version.unlock_rule = definition["unlock_rule"]
    version.call_minutes = definition["call_duration_minutes"]
    version.save()
    version.chapters.all().delete()
    version.guidelines.all().delete()
    Chapter.objects.bulk_create(
        Chapter(
            version=version,
            week=c.week,
            language=c.language,
            title=c.title,
            markdown=c.markdown,
            html=c.html,
            words=c.words,
        )
        for c in content.chapters
    )
    Guideline.objects.bulk_create(
        Guideline(
            version=version,
            week=g.week,
            language=g.language,
            markdown=g.markdown,
            html=g.html,
            checklist=g.checklist,
        )
        for g in content.guidelines
    )
    # Exercises keep their rows (answers point at them); definitions are refreshed in place.
    existing = {e.key: e for e in version.exercises.all()}
    for week in definition["weeks"]:
        items = [(key, content.exercises[key], False) for key in week["exercises"]]
        items.append((week["reflection"]["id"], week["reflection"], True))
        for position, (key, data, is_reflection) in enumerate(items):
            row = existing.get(key) or Exercise(version=version, key=key)
            row.week, row.position, row.is_reflection, row.definition = (
                week["number"],
                position,
                is_reflection,
                data,
            )
            row.save()


def enrolment_start(
    *, patient: PatientProfile, version: ProgramVersion, start_date: date, by=None
) -> Enrolment:
    with transaction.atomic():
        if Enrolment.objects.filter(patient=patient, status=Enrolment.Status.ACTIVE).exists():
            raise ValidationError(
                _("This patient is already enrolled in a program."), code="already_enrolled"
            )
        enrolment = Enrolment.objects.create(
            organisation_id=patient.organisation_id,
            patient=patient,
            version=version,
            start_date=start_date,
        )
        audit_log(
            action="programs.enrolment.started",
            actor=by,
            obj=enrolment,
            payload={"version": str(version), "start_date": start_date.isoformat()},
        )
    return enrolment


@dataclass
class SaveResult:
    status: str  # "saved" | "conflict" | "invalid"
    revision: int
    errors: dict[str, str]
    current: dict[str, Any] | None = None  # the stored answers, on conflict


def answer_save(
    *,
    enrolment: Enrolment,
    exercise: Exercise,
    data: dict[str, Any],
    base_revision: int,
    shared: bool | None = None,
    client_id: str = "",
    by=None,
) -> SaveResult:
    """Store the patient's answers if they build on the latest revision.

    Two tabs never overwrite each other silently: a save based on an older revision is kept
    as a revision marked ``conflict`` and the caller shows both versions. Invalid answers (too
    long, say) are kept the same way, marked ``invalid``.
    """
    with transaction.atomic():
        answer, _created = ExerciseAnswer.objects.select_for_update().get_or_create(
            enrolment=enrolment,
            exercise=exercise,
            defaults={"organisation_id": enrolment.organisation_id},
        )
        cleaned, errors = clean_answers(exercise.definition["fields"], data)
        if errors:
            AnswerRevision.objects.create(
                answer=answer,
                revision=answer.revision,
                data=data,
                outcome="invalid",
                client_id=client_id,
            )
            return SaveResult("invalid", answer.revision, errors)
        if base_revision != answer.revision:
            AnswerRevision.objects.create(
                answer=answer,
                revision=answer.revision,
                data=data,
                outcome="conflict",
                client_id=client_id,
            )
            return SaveResult("conflict", answer.revision, {}, current=answer.data)
        answer.data = cleaned
        answer.revision += 1
        if shared is not None:
            answer.shared_with_counsellor = shared
        answer.save()
        AnswerRevision.objects.create(
            answer=answer, revision=answer.revision, data=cleaned, client_id=client_id
        )
        # Autosave writes often; the audit keeps one entry per revision without the text itself.
        audit_log(
            action="programs.answer.saved",
            actor=by,
            obj=answer,
            payload={"exercise": exercise.key, "revision": answer.revision},
        )
    return SaveResult("saved", answer.revision, {})


def answer_share_set(*, answer: ExerciseAnswer, shared: bool, by=None) -> ExerciseAnswer:
    with transaction.atomic():
        answer.shared_with_counsellor = shared
        answer.save(update_fields=["shared_with_counsellor", "updated_at"])
        audit_log(
            action="programs.answer.shared" if shared else "programs.answer.unshared",
            actor=by,
            obj=answer,
        )
    return answer


def answer_complete(*, answer: ExerciseAnswer, by=None) -> list[str]:
    """Mark an exercise done; returns the required fields still empty (then nothing changes)."""
    missing = missing_required(answer.exercise.definition["fields"], answer.data)
    if missing:
        return missing
    with transaction.atomic():
        answer.completed_at = timezone.now()
        answer.save(update_fields=["completed_at", "updated_at"])
        audit_log(action="programs.answer.completed", actor=by, obj=answer)
    return []
