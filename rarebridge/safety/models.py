"""Concerns, alerts and their escalation chain, and supervision meetings.

A concern is what a person (or a questionnaire answer) raised about a patient; its alert is
what reaches a supervisor and must be acknowledged. Who is told, and in which order, comes
from ``Responder`` rows (per country, plus the site's responsible clinician) and the
``OnDuty`` rota; the order is frozen on the alert when it is raised.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.core.models import TimeStampedModel
from rarebridge.network.models import Country, Organisation, Site


class Level(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    IMMEDIATE = "immediate", _("Immediate danger")


# Most urgent first on every list.
LEVEL_RANK = {Level.IMMEDIATE: 0, Level.HIGH: 1, Level.MEDIUM: 2, Level.LOW: 3}


class Concern(TimeStampedModel):
    """A risk raised about a patient, by a person or by the system (a questionnaire answer)."""

    class Source(models.TextChoices):
        PERSON = "person", _("Raised by a person")
        QUESTIONNAIRE = "questionnaire", _("Questionnaire answer")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(PatientProfile, on_delete=models.PROTECT, related_name="concerns")
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    # Plain text as typed; templates escape it on output and no message ever carries it.
    observed = models.TextField(_("what was observed"))
    source = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.PERSON
    )
    raised_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("concern")
        verbose_name_plural = _("concerns")
        constraints = [
            models.CheckConstraint(
                condition=~Q(source="person") | Q(raised_by__isnull=False),
                name="concern_person_has_raiser",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} concern about {self.patient_id}"


class Alert(TimeStampedModel):
    """What reaches the responders for one concern, until someone acknowledges and closes it.

    ``chain`` holds the ids of the responders in the order they are told, frozen when the
    alert is raised (the on-duty person first); ``step`` is how far escalation has gone,
    and ``due_at`` when the current step escalates unless someone acknowledges.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for acknowledgement")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        CLOSED = "closed", _("Closed")

    class Outcome(models.TextChoices):
        PATIENT_CONTACTED = "patient_contacted", _("Patient contacted")
        REFERRED = "referred", _("Referred")
        EMERGENCY_SERVICES = "emergency_services", _("Emergency services called")
        RESOLVED = "resolved", _("Resolved")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    concern = models.OneToOneField(Concern, on_delete=models.PROTECT, related_name="alert")
    patient = models.ForeignKey(PatientProfile, on_delete=models.PROTECT, related_name="alerts")
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    chain = models.JSONField(default=list)
    clinicians = models.JSONField(default=list)
    step = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    chain_exhausted_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("note"), blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"Alert {self.pk} ({self.level}, {self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class AlertNotification(models.Model):
    """One person told about one alert at one escalation step (all channels together)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    step = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "recipient", "step"], name="alert_notification_once_per_step"
            )
        ]

    def __str__(self) -> str:
        return f"alert {self.alert_id} → {self.recipient_id} (step {self.step})"


class Responder(TimeStampedModel):
    """A place in the escalation chain: for every site of a country, or for one site.

    Supervisors are given per country; a site's responsible clinician is a row for that site
    with ``is_clinician``. The chain of a site is the country's rows, then the site's rows,
    each in ``order``; clinicians come last and are also told at every escalation.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="responders"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_clinician = models.BooleanField(_("responsible clinician"), default=False)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["is_clinician", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(country__isnull=True) ^ Q(site__isnull=True),
                name="responder_country_or_site",
            ),
            models.UniqueConstraint(
                fields=["organisation", "country", "user"],
                condition=Q(site__isnull=True),
                name="responder_unique_per_country",
            ),
            models.UniqueConstraint(
                fields=["site", "user"],
                condition=Q(country__isnull=True),
                name="responder_unique_per_site",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.site_id or self.country_id} ({self.order})"


class OnDuty(TimeStampedModel):
    """Who answers alerts first, for a site or a whole country, between two times."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("on-duty period")
        verbose_name_plural = _("on-duty periods")
        constraints = [
            models.CheckConstraint(
                condition=Q(country__isnull=True) ^ Q(site__isnull=True),
                name="on_duty_country_or_site",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="on_duty_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on duty {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%H:%M}"


class SupervisionMeeting(TimeStampedModel):
    """A supervision meeting of a supervisor with one counsellor or a group."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        GROUP = "group", _("Group")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    held_at = models.DateTimeField(_("held on"))
    supervisor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    topic = models.CharField(_("topic"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-held_at", "-id"]
        verbose_name = _("supervision meeting")
        verbose_name_plural = _("supervision meetings")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} supervision {self.held_at:%Y-%m-%d}"


class SupervisionAttendance(models.Model):
    """Whether one counsellor invited to a meeting attended it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(
        SupervisionMeeting, on_delete=models.CASCADE, related_name="attendance"
    )
    counsellor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField(_("present"), default=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["meeting", "counsellor__full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "counsellor"], name="supervision_attendance_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.counsellor} at {self.meeting_id}: {'present' if self.present else 'absent'}"
