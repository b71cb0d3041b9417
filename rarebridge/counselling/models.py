"""Peer counsellors: profile, training and certification, availability, calls and call notes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.conditions.models import PersonCondition
from rarebridge.core.models import TimeStampedModel
from rarebridge.network.models import Country, Organisation


class Assignment(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    counsellor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="caseload")
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.PROTECT, related_name="assignments"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        constraints = [
            # A patient has at most one current counsellor.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(ended_at__isnull=True),
                name="one_current_counsellor",
            )
        ]

    def __str__(self) -> str:
        return f"{self.counsellor} → {self.patient}"


class CounsellorProfile(TimeStampedModel):
    class AgeBand(models.TextChoices):
        UNDER_30 = "18-29", "18-29"
        THIRTIES = "30-39", "30-39"
        FORTIES = "40-49", "40-49"
        FIFTIES = "50-59", "50-59"
        SIXTY_PLUS = "60+", "60+"

    class Gender(models.TextChoices):
        WOMAN = "woman", _("Woman")
        MAN = "man", _("Man")
        OTHER = "other", _("Another gender")
        UNSAID = "unsaid", _("Prefers not to say")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="counsellor_profile")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    languages = models.JSONField(_("languages"), default=list)
    gender = models.CharField(
        _("gender"), max_length=10, choices=Gender.choices, default=Gender.UNSAID
    )
    age_band = models.CharField(_("age band"), max_length=6, choices=AgeBand.choices, blank=True)
    capacity = models.PositiveSmallIntegerField(_("most active patients at once"), default=6)
    introduction = models.TextField(_("introduction for patients"), blank=True, max_length=1500)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return str(self.user)


class CounsellorCondition(PersonCondition):
    """A condition a counsellor lives with: the same shape as a patient's
    (``rarebridge.conditions.models.PatientCondition``), so matching reads both alike."""

    counsellor = models.ForeignKey(
        CounsellorProfile, on_delete=models.CASCADE, related_name="conditions"
    )

    class Meta(PersonCondition.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["counsellor", "condition"], name="counsellor_condition_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.counsellor_id}: ORPHA:{self.condition_id}"


class TrainingModule(models.Model):
    """One module of the two-day curriculum, loaded from content/training/."""

    curriculum = models.CharField(max_length=50)
    code = models.SlugField(max_length=60)
    day = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField()
    titles = models.JSONField(default=dict)
    objectives = models.JSONField(default=dict)  # language -> list of learning objectives
    is_refresher = models.BooleanField(default=False)

    class Meta:
        ordering = ["curriculum", "day", "position"]
        constraints = [
            models.UniqueConstraint(fields=["curriculum", "code"], name="training_module_unique")
        ]

    def __str__(self) -> str:
        return self.code


class TrainingAttendance(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    counsellor = models.ForeignKey(
        CounsellorProfile, on_delete=models.PROTECT, related_name="attendance"
    )
    module = models.ForeignKey(TrainingModule, on_delete=models.PROTECT, related_name="+")
    attended_on = models.DateField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager(organisation="organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["counsellor", "module", "attended_on"], name="attendance_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.counsellor} · {self.module} · {self.attended_on}"


class RolePlayAssessment(TimeStampedModel):
    """The trainer's role-play checklist: items passed, signed off."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    counsellor = models.ForeignKey(
        CounsellorProfile, on_delete=models.PROTECT, related_name="assessments"
    )
    results = models.JSONField(default=dict)  # checklist item -> bool
    passed = models.BooleanField(default=False)
    signed_off_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    signed_off_at = models.DateTimeField()

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return f"{self.counsellor} role-play {'passed' if self.passed else 'not passed'}"


class Certification(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    counsellor = models.ForeignKey(
        CounsellorProfile, on_delete=models.PROTECT, related_name="certifications"
    )
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField()
    valid_until = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-valid_until"]

    def __str__(self) -> str:
        return f"{self.counsellor} certified until {self.valid_until:%Y-%m-%d}"

    @property
    def is_current(self) -> bool:
        return self.revoked_at is None and self.valid_until > timezone.now()


WEEKDAY_NAMES = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)


class AvailabilityRule(TimeStampedModel):
    """A weekly window in the counsellor's own time zone, e.g. Mondays 17:00-20:00."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    counsellor = models.ForeignKey(
        CounsellorProfile, on_delete=models.CASCADE, related_name="rules"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"))  # Monday = 0
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")), name="rule_start_before_end"
            )
        ]

    def __str__(self) -> str:
        return f"{self.counsellor} {self.weekday} {self.start}-{self.end}"

    @property
    def weekday_name(self) -> str:
        """The weekday in the active language ("Monday", "Montag", ...)."""
        return str(WEEKDAY_NAMES[self.weekday]) if 0 <= self.weekday <= 6 else ""


class AvailabilityException(TimeStampedModel):
    """A day (or part of a day) off: holidays, sick days."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    counsellor = models.ForeignKey(
        CounsellorProfile, on_delete=models.CASCADE, related_name="exceptions"
    )
    day = models.DateField(_("day"))
    start = models.TimeField(_("from"), null=True, blank=True)
    end = models.TimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.counsellor} off {self.day}"


class Call(TimeStampedModel):
    """One weekly telephone call. Slots sit on a fixed grid, so one start per counsellor and
    one live call per patient and week are enforced by the database."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        HELD = "held", _("Held")
        MISSED = "missed", _("Missed")
        CANCELLED = "cancelled", _("Cancelled")
        MOVED = "moved", _("Moved")

    LIVE = (Status.BOOKED, Status.HELD, Status.MISSED)

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    enrolment = models.ForeignKey(
        "programs.Enrolment", on_delete=models.PROTECT, related_name="calls"
    )
    patient = models.ForeignKey(PatientProfile, on_delete=models.PROTECT, related_name="calls")
    counsellor = models.ForeignKey(
        CounsellorProfile, on_delete=models.PROTECT, related_name="calls"
    )
    week = models.PositiveSmallIntegerField()
    starts_at = models.DateTimeField(db_index=True)
    minutes = models.PositiveSmallIntegerField(default=30)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.BOOKED, db_index=True
    )
    booked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    change_reason = models.CharField(max_length=300, blank=True)
    moved_to = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="moved_from"
    )
    # The calendar event's identity: a move carries the UID to the new row and raises the
    # sequence, so a calendar app updates the event it has instead of adding a second one.
    # Empty for calls booked before this existed: ``calendar_uid`` falls back to the row's id.
    ical_uid = models.CharField(max_length=100, blank=True)
    sequence = models.PositiveIntegerField(default=0)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["counsellor", "starts_at"],
                condition=Q(status__in=["booked", "held", "missed"]),
                name="no_double_booking",
            ),
            models.UniqueConstraint(
                fields=["patient", "starts_at"],
                condition=Q(status__in=["booked", "held", "missed"]),
                name="patient_one_call_at_a_time",
            ),
            models.UniqueConstraint(
                fields=["enrolment", "week"],
                condition=Q(status__in=["booked", "held", "missed"]),
                name="one_call_per_week",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} week {self.week} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self):
        from datetime import timedelta

        return self.starts_at + timedelta(minutes=self.minutes)

    @property
    def calendar_uid(self) -> str:
        return self.ical_uid or f"call-{self.pk}@rarebridge"

    @property
    def has_started(self) -> bool:
        return self.starts_at <= timezone.now()


class CallNote(TimeStampedModel):
    class Engagement(models.IntegerChoices):
        LOW = 1, _("Hardly engaged")
        SOME = 2, _("Somewhat engaged")
        GOOD = 3, _("Engaged")
        HIGH = 4, _("Very engaged")

    class Risk(models.TextChoices):
        NONE = "none", _("No signs of risk")
        UNSURE = "unsure", _("Unsure — discussed with supervisor")
        CONCERN = "concern", _("Concern raised")

    class MissedReason(models.TextChoices):
        NO_ANSWER = "no_answer", _("The patient did not answer")
        LATE_CANCEL = "late_cancel", _("The patient cancelled late")
        COUNSELLOR = "counsellor", _("I could not call")
        TECHNICAL = "technical", _("A technical problem")
        OTHER = "other", _("Another reason")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    call = models.OneToOneField(Call, on_delete=models.PROTECT, related_name="note")
    held = models.BooleanField(_("the call took place"))
    missed_code = models.CharField(
        _("why it did not take place"), max_length=20, choices=MissedReason.choices, blank=True
    )
    missed_reason = models.CharField(_("more about why"), max_length=300, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration in minutes"), null=True, blank=True
    )
    topics = models.JSONField(_("guideline topics covered"), default=list, blank=True)
    engagement = models.PositiveSmallIntegerField(
        _("engagement"), choices=Engagement.choices, null=True, blank=True
    )
    agreed_next = models.TextField(_("agreed for next week"), blank=True, max_length=2000)
    risk = models.CharField(
        _("risk question"), max_length=10, choices=Risk.choices, default=Risk.NONE
    )
    text = models.TextField(_("notes"), blank=True, max_length=5000)
    signed_at = models.DateTimeField(null=True, blank=True)
    written_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return f"Note on {self.call}"


class NoteAmendment(models.Model):
    """A later addition to a signed note, kept with its author and time."""

    note = models.ForeignKey(CallNote, on_delete=models.PROTECT, related_name="amendments")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    text = models.TextField(max_length=3000)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"Amendment to {self.note_id} by {self.author_id}"


class CalendarFeed(TimeStampedModel):
    """A private calendar URL per person; only a hash of its token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class ReminderPreference(models.Model):
    """How a person wants call reminders: channels and how long before."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="reminder_preference")
    by_email = models.BooleanField(_("by e-mail"), default=True)
    by_sms = models.BooleanField(_("by text message"), default=False)
    day_before = models.BooleanField(_("24 hours before"), default=True)
    hour_before = models.BooleanField(_("1 hour before"), default=True)

    def __str__(self) -> str:
        return f"Reminders of {self.user}"


def certification_valid_days() -> int:
    return settings.CERTIFICATION_VALID_DAYS


class MatchPreference(TimeStampedModel):
    """What a patient asked for in a counsellor, and when they can take calls (local time)."""

    patient = models.OneToOneField(
        PatientProfile, on_delete=models.CASCADE, related_name="match_preference"
    )
    preferred_gender = models.CharField(
        _("preferred gender of the counsellor"), max_length=10, blank=True
    )
    gender_required = models.BooleanField(_("only a counsellor of that gender"), default=False)
    extra_languages = models.JSONField(_("other languages I can talk in"), default=list, blank=True)
    # [{"weekday": 0-6, "start": "HH:MM", "end": "HH:MM"}] in the patient's zone; empty = any day 08:00-20:00.
    call_windows = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"Preferences of {self.patient}"


class MatchDecline(TimeStampedModel):
    """A pairing that must not be proposed again (declined by either side, or ended on request)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="match_declines"
    )
    counsellor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return f"{self.patient} declined {self.counsellor}"
