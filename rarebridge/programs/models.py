"""Programs as data, enrolments, and what patients write in their exercises."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from rarebridge.accounts.models import PatientProfile
from rarebridge.core.models import TimeStampedModel
from rarebridge.network.models import Organisation, pick_translation


class Program(TimeStampedModel):
    slug = models.SlugField(unique=True)
    titles = models.JSONField(default=dict)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return pick_translation(self.titles) or self.slug


class ProgramVersion(TimeStampedModel):
    """One loaded version folder. Its structure never changes once anyone is enrolled."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=20)
    definition = models.JSONField()  # program.json with every language merged in
    languages = models.JSONField(default=list)  # complete languages
    review = models.JSONField(default=dict)  # language -> "draft" | "reviewed"
    checksum = models.CharField(max_length=64)
    structure = models.CharField(max_length=64)
    weeks = models.PositiveSmallIntegerField()
    unlock_rule = models.CharField(max_length=20)
    call_minutes = models.PositiveSmallIntegerField(default=30)

    class Meta:
        ordering = ["program", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["program", "version"], name="program_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.program.slug} v{self.version}"

    def week(self, number: int) -> dict:
        return self.definition["weeks"][number - 1]


class Chapter(models.Model):
    version = models.ForeignKey(ProgramVersion, on_delete=models.CASCADE, related_name="chapters")
    week = models.PositiveSmallIntegerField()
    language = models.CharField(max_length=8)
    title = models.CharField(max_length=200)
    markdown = models.TextField()
    html = models.TextField()
    words = models.PositiveIntegerField()

    class Meta:
        ordering = ["week", "language"]
        constraints = [
            models.UniqueConstraint(fields=["version", "week", "language"], name="chapter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.version} week {self.week} ({self.language})"

    @property
    def reading_minutes(self) -> int:
        return max(1, round(self.words / 180))  # a relaxed pace for plain-language text


class Guideline(models.Model):
    version = models.ForeignKey(ProgramVersion, on_delete=models.CASCADE, related_name="guidelines")
    week = models.PositiveSmallIntegerField()
    language = models.CharField(max_length=8)
    markdown = models.TextField()
    html = models.TextField()
    checklist = models.JSONField(default=list)

    class Meta:
        ordering = ["week", "language"]
        constraints = [
            models.UniqueConstraint(fields=["version", "week", "language"], name="guideline_unique")
        ]

    def __str__(self) -> str:
        return f"{self.version} guideline {self.week} ({self.language})"


class Exercise(models.Model):
    """An exercise or a week's reflection: a form definition with every language merged."""

    version = models.ForeignKey(ProgramVersion, on_delete=models.CASCADE, related_name="exercises")
    key = models.CharField(max_length=100)
    week = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField()
    is_reflection = models.BooleanField(default=False)
    definition = models.JSONField()

    class Meta:
        ordering = ["week", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="exercise_unique")]

    def __str__(self) -> str:
        return self.key

    @property
    def title(self) -> str:
        return pick_translation(self.definition["title"])


class Enrolment(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(PatientProfile, on_delete=models.PROTECT, related_name="enrolments")
    version = models.ForeignKey(ProgramVersion, on_delete=models.PROTECT, related_name="enrolments")
    start_date = models.DateField(_("start date"))  # in the patient's own calendar
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=models.Q(status="active"), name="one_active_enrolment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} in {self.version}"


class ExerciseAnswer(TimeStampedModel):
    """The patient's current answers to one exercise. Every save is also kept as a revision."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="answers")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="answers")
    data = models.JSONField(default=dict)
    revision = models.PositiveIntegerField(default=0)
    shared_with_counsellor = models.BooleanField(_("share with my counsellor"), default=False)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "exercise"], name="answer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.enrolment} · {self.exercise}"


class AnswerRevision(models.Model):
    """Append-only history of every save, including saves refused as conflicts: nothing a
    patient typed is ever lost."""

    answer = models.ForeignKey(ExerciseAnswer, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField()
    data = models.JSONField()

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Saved")
        CONFLICT = "conflict", _("Not applied: changed elsewhere")
        INVALID = "invalid", _("Not applied: not valid")

    saved_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.APPLIED)
    client_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["answer", "saved_at"]

    def __str__(self) -> str:
        return f"{self.answer_id} r{self.revision}"
