"""Studies and their participants: screening, consent, allocation and assessments.

A study's design lives in its content file (``content/studies/<slug>.json``) and is stored
whole on ``Study.definition``; the rows here record what happened to people.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from rarebridge.accounts.models import PatientProfile
from rarebridge.core.models import TimeStampedModel
from rarebridge.instruments.models import Response
from rarebridge.network.models import Organisation, Site, pick_translation


class Study(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    slug = models.SlugField()
    titles = models.JSONField(default=dict)
    definition = models.JSONField(default=dict)
    checksum = models.CharField(max_length=64)
    is_open = models.BooleanField(_("open for recruitment"), default=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["slug"]
        verbose_name = _("study")
        verbose_name_plural = _("studies")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="study_unique_slug")
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def title(self) -> str:
        return pick_translation(self.titles) or self.slug

    def arm(self, code: str) -> dict:
        return next(a for a in self.definition["arms"] if a["code"] == code)


class StudySite(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="study_sites")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    target = models.PositiveIntegerField(_("recruitment target"))
    languages = models.JSONField(default=list)

    class Meta:
        ordering = ["site__name"]
        constraints = [models.UniqueConstraint(fields=["study", "site"], name="study_site_unique")]

    def __str__(self) -> str:
        return f"{self.study} @ {self.site}"


class ConsentVersion(models.Model):
    """One issued consent text for a site (or every site) and language. Never edited."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="consent_versions")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(max_length=8)
    version = models.CharField(max_length=20)
    markdown = models.TextField()
    html = models.TextField()
    sha256 = models.CharField(max_length=64)
    comprehension = models.JSONField(default=list)
    countersignature_required = models.BooleanField(default=False)
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["study", "-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "site", "language", "version"], name="consent_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.study} consent v{self.version} ({self.language})"


class Participant(TimeStampedModel):
    class Status(models.TextChoices):
        ELIGIBLE = "eligible", _("Eligible, consent pending")
        CONSENTED = "consented", _("Consented")
        RANDOMISED = "randomised", _("Randomised")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Withdrawal(models.TextChoices):
        NONE = "", _("Not withdrawn")
        PROGRAM = "program", _("From the program")
        QUESTIONNAIRES = "questionnaires", _("From the questionnaires")
        ENTIRELY = "entirely", _("From the study entirely")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="participants")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    # Only eligible people become participants, always with an account; screened-out people
    # leave a screening record without a name.
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.PROTECT, related_name="participations"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ELIGIBLE)
    diagnosis = models.CharField(max_length=20)
    language = models.CharField(max_length=8)
    withdrawal = models.CharField(max_length=20, choices=Withdrawal.choices, blank=True, default="")
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["study", "patient"], name="participant_once_per_study")
        ]

    def __str__(self) -> str:
        return self.patient.code

    @property
    def questionnaires_stopped(self) -> bool:
        return self.withdrawal in (self.Withdrawal.QUESTIONNAIRES, self.Withdrawal.ENTIRELY)


class ScreeningRecord(models.Model):
    """One line of the screening log: who was screened how, and why anyone was excluded.

    Screened-out people leave no name here: only the site, the source and the reasons.
    """

    class Source(models.TextChoices):
        SELF = "self", _("Self-referral")
        COORDINATOR = "coordinator", _("Referral by a site coordinator")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="screenings")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=20, choices=Source.choices)
    eligible = models.BooleanField()
    reasons = models.JSONField(default=list)
    answers = models.JSONField(default=dict)
    participant = models.OneToOneField(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="screening"
    )
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    screened_at = models.DateTimeField()

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-screened_at", "-id"]

    def __str__(self) -> str:
        return f"screening {self.pk} ({'eligible' if self.eligible else 'excluded'})"


class ConsentRecord(models.Model):
    """A signed consent: the PDF made at signing is the record, its sha256 the seal."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="consents")
    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="+")
    typed_name = models.CharField(max_length=200)
    comprehension = models.JSONField(default=dict)
    signed_at = models.DateTimeField()
    pdf = models.BinaryField()
    pdf_sha256 = models.CharField(max_length=64)
    countersigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    countersigned_at = models.DateTimeField(null=True, blank=True)
    countersign_pdf_sha256 = models.CharField(max_length=64, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"consent {self.version.version} of {self.participant}"

    @property
    def is_complete(self) -> bool:
        return not self.version.countersignature_required or self.countersigned_at is not None


class StratumCounter(models.Model):
    """How many slots of one stratum are used. Locked to take the next slot."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="stratum_counters")
    stratum = models.CharField(max_length=255)
    used = models.PositiveIntegerField(default=0)
    generated = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "stratum"], name="stratum_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.study} {self.stratum}"


class AllocationSlot(models.Model):
    """One concealed place of a stratum's sequence. No page shows an unused slot's arm."""

    class Source(models.TextChoices):
        SEQUENCE = "sequence", _("Generated from the secret")
        TABLE = "table", _("Imported allocation table")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    stratum = models.CharField(max_length=255)
    index = models.PositiveIntegerField()
    block = models.PositiveIntegerField(null=True, blank=True)
    block_size = models.PositiveIntegerField(null=True, blank=True)
    arm = models.CharField(max_length=40)
    source = models.CharField(max_length=10, choices=Source.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "stratum", "index"], name="slot_unique")
        ]

    def __str__(self) -> str:
        return f"{self.stratum} #{self.index}"


class Allocation(models.Model):
    class Method(models.TextChoices):
        BLOCKS = "blocks", _("Stratified permuted blocks")
        TABLE = "table", _("Allocation table")
        MINIMISATION = "minimisation", _("Minimisation")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="allocation"
    )
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="allocations")
    arm = models.CharField(max_length=40)
    stratum = models.CharField(max_length=255)
    factors = models.JSONField(default=dict)
    slot_index = models.PositiveIntegerField(null=True, blank=True)
    method = models.CharField(max_length=20, choices=Method.choices)
    randomised_at = models.DateTimeField()
    randomised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["randomised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "stratum", "slot_index"], name="allocation_slot_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant} → {self.arm}"


class Assessment(models.Model):
    """One timepoint's questionnaires for one participant, with its window."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="assessments"
    )
    timepoint = models.CharField(max_length=10)
    instruments = models.JSONField(default=list)
    opens_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The answers given at this timepoint: instruments.Response rows, reached through the
    # link below (``Response.objects.filter(assessment=…)`` reads as before).
    responses = models.ManyToManyField(
        Response,
        through="AssessmentResponse",
        related_name="assessments",
        related_query_name="assessment",
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["participant", "opens_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "timepoint"], name="assessment_once_per_timepoint"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant} {self.timepoint}"


class AssessmentSend(models.Model):
    """An invitation (number 0) or reminder that went out; the key makes sending idempotent."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="sends")
    number = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assessment", "number"], name="assessment_send_once")
        ]

    def __str__(self) -> str:
        return f"{self.assessment} send {self.number}"


class AssessmentResponse(models.Model):
    """One instrument of an assessment, answered: the link from a study to a response.

    Why a link row, and not an ``assessment`` FK on the response: a response belongs to a
    person and an instrument, and most of them will be given with no study at all (routine
    care, implementation surveys). The instruments app therefore knows nothing of studies;
    the study records which of a person's responses answer which timepoint. The one-to-one
    keeps a response in at most one assessment; ``instrument`` repeats the response's so the
    database itself keeps "one response per instrument and assessment" (a constraint cannot
    reach across the join), which makes concurrent first opens of a questionnaire safe.
    """

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="links")
    response = models.OneToOneField(
        Response, on_delete=models.CASCADE, related_name="assessment_link"
    )
    instrument = models.CharField(max_length=40)

    class Meta:
        ordering = ["assessment", "instrument"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "instrument"], name="assessment_response_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.assessment} {self.instrument}"
