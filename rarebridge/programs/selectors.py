"""Permission-checked reads for the program: the patient's own enrolment and its content."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.engines.program_weeks import UnlockRule, WeekState, weeks_state
from rarebridge.programs.content import LANGUAGES, guideline_html
from rarebridge.programs.models import (
    Chapter,
    Enrolment,
    Exercise,
    ExerciseAnswer,
    Guideline,
    ProgramVersion,
)

VALUES_AND_GOALS_WEEKS = (4, 5, 6)


class NotOpenYet(Exception):
    """The week of this content has not opened for the patient; ``state`` says when it does."""

    def __init__(self, state: WeekState):
        super().__init__(f"week {state.number} opens at {state.opens_at.isoformat()}")
        self.state = state


def enrolment_for_patient(*, user) -> Enrolment | None:
    """The patient's own active enrolment (or their latest one)."""
    profile = getattr(user, "patient_profile", None)
    if profile is None:
        return None
    return (
        Enrolment.objects.filter(patient=profile)
        .select_related("version", "version__program", "patient")
        .order_by("status", "-created_at")  # "active" sorts before "completed" and "withdrawn"
        .first()
    )


def enrolment_get_for_patient(*, user) -> Enrolment:
    enrolment = enrolment_for_patient(user=user)
    if enrolment is None:
        raise Http404
    return enrolment


def weeks_for(*, enrolment: Enrolment, user, now: datetime | None = None) -> list[WeekState]:
    return weeks_state(
        start=enrolment.start_date,
        weeks=enrolment.version.weeks,
        zone=zoneinfo.ZoneInfo(user.time_zone),
        now=now or timezone.now(),
        rule=UnlockRule(enrolment.version.unlock_rule),
    )


def chapter_in_language(
    *, version: ProgramVersion, week: int, language: str
) -> tuple[Chapter, bool]:
    """The chapter in the person's language, else English. The flag says it fell back."""
    chapters = {
        c.language: c
        for c in Chapter.objects.filter(version=version, week=week, language__in=[language, "en"])
    }
    if language in chapters:
        return chapters[language], False
    if "en" in chapters:
        return chapters["en"], language != "en"
    raise Http404


def guideline_in_language(
    *, version: ProgramVersion, week: int, language: str
) -> tuple[Guideline, bool]:
    rows = {
        g.language: g
        for g in Guideline.objects.filter(version=version, week=week, language__in=[language, "en"])
    }
    for row in rows.values():
        # Rendered from the Markdown each time, so versions loaded before the renderer learnt
        # tables and task lists show them too.
        row.html = guideline_html(row.markdown)
    if language in rows:
        return rows[language], False
    if "en" in rows:
        return rows["en"], language != "en"
    raise Http404


@dataclass
class ExerciseRow:
    exercise: Exercise
    answer: ExerciseAnswer | None

    @property
    def started(self) -> bool:
        return bool(self.answer and self.answer.data)

    @property
    def done(self) -> bool:
        return bool(self.answer and self.answer.completed_at)


def exercises_with_answers(
    *, enrolment: Enrolment, weeks: tuple[int, ...] | None = None
) -> list[ExerciseRow]:
    """Exercises of the enrolment's version with the patient's answers, in two queries."""
    exercises = Exercise.objects.filter(version_id=enrolment.version_id)
    if weeks is not None:
        exercises = exercises.filter(week__in=weeks)
    answers = {a.exercise_id: a for a in ExerciseAnswer.objects.filter(enrolment=enrolment)}
    return [ExerciseRow(e, answers.get(e.pk)) for e in exercises.order_by("week", "position")]


def exercise_get_for_patient(
    *, user, enrolment: Enrolment, key: str, now: datetime | None = None
) -> tuple[Exercise, ExerciseAnswer | None]:
    exercise = Exercise.objects.filter(version_id=enrolment.version_id, key=key).first()
    if exercise is None:
        raise Http404
    state = weeks_for(enrolment=enrolment, user=user, now=now)[exercise.week - 1]
    if not state.is_open:
        raise NotOpenYet(state)
    answer = ExerciseAnswer.objects.filter(enrolment=enrolment, exercise=exercise).first()
    return exercise, answer


def versions_for_admin(*, user) -> QuerySet[ProgramVersion]:
    if not user_has_perm(user, Perm.PROGRAM_VIEW):
        raise PermissionDenied
    return ProgramVersion.objects.select_related("program").order_by("program__slug", "-created_at")


def version_get_for_admin(*, user, id: int) -> ProgramVersion:
    version = versions_for_admin(user=user).filter(pk=id).first()
    if version is None:
        raise Http404
    return version


def translation_status(*, version: ProgramVersion) -> list[dict]:
    """Per language: chapters and guidelines present, and the review status."""
    chapters: dict[str, int] = {}
    for row in Chapter.objects.filter(version=version).values_list("language", flat=True):
        chapters[row] = chapters.get(row, 0) + 1
    guidelines: dict[str, int] = {}
    for row in Guideline.objects.filter(version=version).values_list("language", flat=True):
        guidelines[row] = guidelines.get(row, 0) + 1
    return [
        {
            "language": language,
            "chapters": chapters.get(language, 0),
            "guidelines": guidelines.get(language, 0),
            "complete": language in version.languages,
            "review": version.review.get(language, "draft"),
        }
        for language in LANGUAGES
    ]


def active_enrolment_of(*, patient) -> Enrolment | None:
    """The patient's active enrolment; the caller has already checked access to the patient."""
    return (
        Enrolment.objects.filter(patient=patient, status=Enrolment.Status.ACTIVE)
        .select_related("version")
        .first()
    )
