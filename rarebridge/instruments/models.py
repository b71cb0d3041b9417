"""Questionnaires and people's answers to them, with or without a study.

A :class:`Response` belongs to a person (``subject``), an instrument and a language; nothing
here knows of studies. A study's assessment points to its responses from ``trials``
(``trials.AssessmentResponse``); routine care and implementation surveys use the same rows
without one.

The tables keep the names they had in ``trials`` (``trials_response`` …): the models moved
with ``SeparateDatabaseAndState``, so no table is rewritten when a deployment upgrades.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from rarebridge.core.models import TimeStampedModel
from rarebridge.network.models import Organisation


class Response(TimeStampedModel):
    """One person's answers to one instrument, autosaved with revisions, scored on submit."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    # Whose answers these are: a patient, or a member of staff answering an
    # implementation survey. Whoever typed them is ``entered_by``.
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    instrument = models.CharField(max_length=40)
    language = models.CharField(max_length=8, blank=True, default="")
    answers = models.JSONField(default=dict)
    revision = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf = models.BooleanField(_("entered on the participant's behalf"), default=False)
    scores = models.JSONField(default=dict)
    algorithm = models.CharField(max_length=40, blank=True)
    scoring_options = models.JSONField(default=dict)
    flags = models.JSONField(default=list)
    # When a risk answer in it was told to a person (a concern raised): once per response.
    risk_alerted_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        db_table = "trials_response"
        ordering = ["subject_id", "instrument", "created_at"]

    def __str__(self) -> str:
        return f"{self.subject_id} {self.instrument}"


class ResponseRevision(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    answers = models.JSONField(default=dict)
    saved_at = models.DateTimeField()
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "trials_responserevision"
        ordering = ["response", "number"]
        constraints = [
            models.UniqueConstraint(fields=["response", "number"], name="response_revision_once")
        ]

    def __str__(self) -> str:
        return f"{self.response} r{self.number}"


class InstrumentText(models.Model):
    """A deployment's own wording of an instrument in one language (licensed or official),
    loaded over the shipped structure. Never written to content/: licensed text stays here.
    Each load is a new row; responses name the row they were answered in."""

    instrument = models.CharField(max_length=40)
    language = models.CharField(max_length=8)
    source = models.TextField()
    provenance = models.CharField(max_length=10, default="licensed")  # or "official"
    items = models.JSONField(default=dict)
    answers = models.JSONField(default=dict)
    sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "trials_instrumenttext"
        ordering = ["instrument", "language", "-loaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "language", "sha256"], name="instrument_text_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.language} ({self.provenance})"


class ExternalQuestionnaire(models.Model):
    """An external questionnaire (e.g. an SDC PHQ-9) mapped onto one of ours, so responses
    coming from another system can be scored."""

    url = models.CharField(max_length=300, unique=True)
    instrument = models.CharField(max_length=40)
    link_ids = models.JSONField()
    answers = models.JSONField()
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "trials_externalquestionnaire"

    def __str__(self) -> str:
        return f"{self.url} → {self.instrument}"
