"""Collaborative care: the care team around a patient, the shared case plan, notes whose
visibility follows the reader's role, a timeline, one-stop clinic days with the itineraries
the solver builds, and the travel and stay around them.

Clinic times are entered as local clock times at the clinic's site; the itinerary is stored
as aware datetimes (UTC in the database) and shown in each viewer's own zone.
"""

from __future__ import annotations

import zoneinfo

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.core.models import TimeStampedModel
from rarebridge.network.models import Organisation, Site


class TeamRole(models.TextChoices):
    SPECIALIST_NURSE = "specialist_nurse", _("Specialist nurse")
    TRANSITION_COORDINATOR = "transition_coordinator", _("Transition coordinator")
    FAMILY_SUPPORT_WORKER = "family_support_worker", _("Family support worker")
    CLINICIAN = "clinician", _("Named clinician")


# Who on a care team reads clinical notes; a family support worker (from the patient charity)
# arranges travel and stay and does not.
CLINICAL_TEAM_ROLES = frozenset({TeamRole.SPECIALIST_NURSE, TeamRole.CLINICIAN})


class CareTeamMember(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(PatientProfile, on_delete=models.PROTECT, related_name="care_team")
    # Staff with an account; a named clinician without one has only a name.
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="care_memberships"
    )
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role on the team"), max_length=32, choices=TeamRole.choices)
    specialty = models.CharField(_("specialty"), max_length=120, blank=True)
    active = models.BooleanField(default=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["role", "name"]
        verbose_name = _("care team member")
        verbose_name_plural = _("care team members")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class CaseGoal(TimeStampedModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Achieved")
        DROPPED = "dropped", _("Dropped")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(PatientProfile, on_delete=models.PROTECT, related_name="care_goals")
    title = models.CharField(_("goal"), max_length=200)
    owner = models.ForeignKey(
        CareTeamMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="goals"
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["status", "due_on", "pk"]

    def __str__(self) -> str:
        return self.title


class CaseTask(TimeStampedModel):
    goal = models.ForeignKey(CaseGoal, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("task"), max_length=200)
    owner = models.ForeignKey(
        CareTeamMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="goal__organisation")

    class Meta:
        ordering = ["done_at", "due_on", "pk"]

    def __str__(self) -> str:
        return self.title


class CareNote(TimeStampedModel):
    class Kind(models.TextChoices):
        CLINICAL = "clinical", _("Clinical note (clinical members of the team only)")
        TEAM = "team", _("Team note (the whole care team)")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(PatientProfile, on_delete=models.PROTECT, related_name="care_notes")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # Plain text as typed; templates escape it.
    text = models.TextField(_("note"))

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d}"


class CareEvent(models.Model):
    """One line of a patient's care timeline, written by the care services beside the audit
    entry. ``code`` is the audit action; ``params`` fill its sentence, shown to the whole team
    (never a note's text)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.PROTECT, related_name="care_events"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    code = models.CharField(max_length=80)
    params = models.JSONField(default=dict, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.code}"


class Clinic(TimeStampedModel):
    """A one-stop clinic of one or two days at a site."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Not planned yet")
        OPTIMAL = "optimal", _("Planned, proven best")
        FEASIBLE = "feasible", _("Planned, within the reported gap of the best")
        INFEASIBLE = "infeasible", _("Impossible as set up")
        UNKNOWN = "unknown", _("No timetable found in the time allowed")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    step_minutes = models.PositiveSmallIntegerField(_("time grid in minutes"), default=15)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    method = models.CharField(max_length=20, blank=True)
    objective = models.IntegerField(null=True, blank=True)
    bound = models.IntegerField(null=True, blank=True)
    gap = models.FloatField(null=True, blank=True)
    waiting_minutes = models.IntegerField(null=True, blank=True)
    # The engine's explanations: [{"rule", "people", "params", "message"}], ids as in the plan.
    explanations = models.JSONField(default=list, blank=True)
    planned_at = models.DateTimeField(null=True, blank=True)
    wall_seconds = models.FloatField(null=True, blank=True)
    # The plan's quality for people (the engine's ``Schedule.summary``, in minutes), and whether
    # the search stopped on its work limit, so the same set-up gives the same plan again.
    summary = models.JSONField(default=dict, blank=True)
    reproducible = models.BooleanField(null=True, blank=True)
    # Set while a planning task is queued or running; the task clears it.
    planning_since = models.DateTimeField(null=True, blank=True)
    # The last change to the set-up that matters to the plan; after ``planned_at`` the
    # timetable no longer shows the set-up as it is, and the page asks to plan again.
    setup_changed_at = models.DateTimeField(null=True, blank=True)
    # Taken by the background re-plan while it runs: one re-plan at a time writes the timetable.
    replan_lease = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_timetable(self) -> bool:
        return self.status in (self.Status.OPTIMAL, self.Status.FEASIBLE)

    @property
    def setup_changed_since_plan(self) -> bool:
        return bool(
            self.planned_at and self.setup_changed_at and self.setup_changed_at > self.planned_at
        )

    @property
    def gap_percent(self) -> float | None:
        return None if self.gap is None else round(self.gap * 100, 1)

    def site_zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.site.time_zone)


class ClinicDay(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))
    # Latest start of a fasting test; empty: two hours after opening.
    fasting_by = models.TimeField(_("fasting tests start by"), null=True, blank=True)

    objects = ScopedManager(organisation="clinic__organisation")

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "date"], name="care_clinic_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d}"


class ClinicBreak(models.Model):
    """A break no appointment runs across (the team's lunch, a handover)."""

    day = models.ForeignKey(ClinicDay, on_delete=models.CASCADE, related_name="breaks")
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    objects = ScopedManager(organisation="day__clinic__organisation")

    class Meta:
        ordering = ["starts"]

    def __str__(self) -> str:
        return f"{self.starts:%H:%M}-{self.ends:%H:%M}"


class ClinicRoom(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(_("room"), max_length=100)
    kind = models.CharField(_("kind"), max_length=60, default="consulting")
    step_free = models.BooleanField(_("step-free"), default=True)

    objects = ScopedManager(organisation="clinic__organisation")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="care_clinic_room_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ClinicProfessional(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="professionals")
    name = models.CharField(_("name"), max_length=200)
    discipline = models.CharField(_("discipline"), max_length=120)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Rooms they can work in; none: any room.
    rooms = models.ManyToManyField(ClinicRoom, blank=True, related_name="professionals")

    objects = ScopedManager(organisation="clinic__organisation")

    class Meta:
        ordering = ["discipline", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.discipline})"


class ProfessionalShift(models.Model):
    """When a professional is present; a professional without shifts is there all day."""

    professional = models.ForeignKey(
        ClinicProfessional, on_delete=models.CASCADE, related_name="shifts"
    )
    day = models.ForeignKey(ClinicDay, on_delete=models.CASCADE, related_name="+")
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    objects = ScopedManager(organisation="professional__clinic__organisation")

    class Meta:
        ordering = ["day", "starts"]

    def __str__(self) -> str:
        return f"{self.starts:%H:%M}-{self.ends:%H:%M}"


class ClinicInvitation(TimeStampedModel):
    """A patient invited to a clinic, with what they need there."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        CANCELLED = "cancelled", _("Cancelled")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="invitations")
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.PROTECT, related_name="clinic_invitations"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INVITED)
    # Days they attend; empty: any clinic day.
    days = models.ManyToManyField(ClinicDay, blank=True, related_name="+")
    step_free = models.BooleanField(_("needs step-free rooms"), default=False)
    max_hours_a_day = models.DecimalField(
        _("at most this many hours on site a day"),
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
    )
    lunch_minutes = models.PositiveSmallIntegerField(_("lunch break in minutes"), default=30)
    # Brothers and sisters (or a parent who is a patient too) share a family label.
    family = models.CharField(_("family"), max_length=40, blank=True)
    round_table_minutes = models.PositiveSmallIntegerField(
        _("closing round table in minutes"), default=0
    )
    round_table_team = models.ManyToManyField(ClinicProfessional, blank=True, related_name="+")

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["patient__code"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "patient"], name="care_invitation_unique")
        ]

    def __str__(self) -> str:
        return f"{self.patient} @ {self.clinic}"


class RequiredAppointment(models.Model):
    """A consultation or test an invited patient needs."""

    class Status(models.TextChoices):
        NEEDED = "needed", _("Needed")
        CANCELLED = "cancelled", _("Cancelled")

    invitation = models.ForeignKey(
        ClinicInvitation, on_delete=models.CASCADE, related_name="appointments"
    )
    label = models.CharField(_("consultation or test"), max_length=120)
    # Label in other languages, for the family's itinerary: {"de": "Blutabnahme", ...}.
    labels = models.JSONField(default=dict, blank=True)
    professionals = models.ManyToManyField(ClinicProfessional, related_name="+")
    minutes = models.PositiveSmallIntegerField(_("minutes"))
    room_kind = models.CharField(_("room kind"), max_length=60, blank=True)
    fasting = models.BooleanField(_("fasting test"), default=False)
    rest_after_minutes = models.PositiveSmallIntegerField(_("rest afterwards, minutes"), default=0)
    after = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("only after"),
    )
    gap_minutes = models.PositiveSmallIntegerField(_("at least this long after"), default=0)
    # Siblings' appointments with the same block key are seen back to back by one professional.
    sibling_block = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEEDED)

    objects = ScopedManager(organisation="invitation__organisation")

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.label


class ScheduledVisit(models.Model):
    """One appointment or round table as the solver placed it."""

    class Kind(models.TextChoices):
        APPOINTMENT = "appointment", _("Appointment")
        ROUND_TABLE = "round_table", _("Round table")
        LUNCH = "lunch", _("Lunch break")

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="visits")
    invitation = models.ForeignKey(
        ClinicInvitation, on_delete=models.CASCADE, related_name="visits"
    )
    appointment = models.ForeignKey(
        RequiredAppointment, null=True, blank=True, on_delete=models.CASCADE, related_name="visits"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    day = models.ForeignKey(ClinicDay, on_delete=models.CASCADE, related_name="visits")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    room = models.ForeignKey(
        ClinicRoom, null=True, blank=True, on_delete=models.CASCADE, related_name="visits"
    )
    professionals = models.ManyToManyField(ClinicProfessional, blank=True, related_name="visits")

    objects = ScopedManager(organisation="clinic__organisation")

    class Meta:
        ordering = ["starts_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.starts_at:%Y-%m-%d %H:%M}"


class ClinicReplan(models.Model):
    """A change to a planned clinic (a cancellation, a late arrival, a changed set-up), recorded
    at once, and the background re-plan around it. Changes recorded while a re-plan runs are
    re-planned together next; ``batch`` is the last change of the re-plan that took them."""

    class Reason(models.TextChoices):
        APPOINTMENT_CANCELLED = "appointment", _("Appointment cancelled")
        INVITATION_CANCELLED = "invitation", _("Family cannot come")
        PROFESSIONAL_LATE = "late", _("Professional arrives late")
        SETUP_CHANGED = "setup", _("Set-up changed")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Re-planning")
        DONE = "done", _("Re-planned")
        KEPT = "kept", _("Could not be re-planned; the timetable was kept")

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="replans")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    # What changed, for the page and the audit: ids and the labels of the moment.
    params = models.JSONField(default=dict, blank=True)
    # Invitations whose itinerary the change itself alters (they are told even if nothing moves).
    touched = models.JSONField(default=list, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    requested_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    finished_at = models.DateTimeField(null=True, blank=True)
    batch = models.PositiveIntegerField(null=True, blank=True)
    # Appointments placed anew: [{"invitation", "appointment", "from", "to"}], ISO datetimes,
    # "from" empty for one that had no place before.
    moved = models.JSONField(default=list, blank=True)

    objects = ScopedManager(organisation="clinic__organisation")

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["clinic", "status"], name="care_replan_clinic_status")]

    def __str__(self) -> str:
        return f"{self.reason} {self.status} ({self.clinic_id})"


class TravelPlan(TimeStampedModel):
    """A family's travel and stay for one clinic, worked through by the family support worker."""

    class Stay(models.TextChoices):
        NONE = "none", _("No overnight stay")
        HOTEL = "hotel", _("Hotel")
        FAMILY_ROOM = "family_room", _("Family room on site")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    invitation = models.OneToOneField(
        ClinicInvitation, on_delete=models.CASCADE, related_name="travel"
    )
    stay = models.CharField(_("stay"), max_length=12, choices=Stay.choices, default=Stay.NONE)
    stay_name = models.CharField(_("where"), max_length=200, blank=True)
    nights = models.PositiveSmallIntegerField(_("nights"), default=0)
    assistance = models.TextField(_("assistance needed"), blank=True)

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return f"travel {self.invitation_id}"


class TravelLeg(models.Model):
    class Mode(models.TextChoices):
        TRAIN = "train", _("Train")
        CAR = "car", _("Car")
        TAXI = "taxi", _("Taxi")
        PLANE = "plane", _("Plane")
        BUS = "bus", _("Bus or coach")

    class Payer(models.TextChoices):
        FAMILY = "family", _("The family (reimbursed)")
        CLINIC = "clinic", _("The clinic")
        CHARITY = "charity", _("The patient charity")
        INSURER = "insurer", _("Health insurer")

    plan = models.ForeignKey(TravelPlan, on_delete=models.CASCADE, related_name="legs")
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    departs_at = models.DateTimeField(_("departs"))
    arrives_at = models.DateTimeField(_("arrives"))
    origin = models.CharField(_("from"), max_length=120)
    destination = models.CharField(_("to"), max_length=120)
    paid_by = models.CharField(_("paid by"), max_length=10, choices=Payer.choices)
    booked = models.BooleanField(_("booked"), default=False)

    objects = ScopedManager(organisation="plan__organisation")

    class Meta:
        ordering = ["departs_at"]

    def __str__(self) -> str:
        return f"{self.origin} -> {self.destination}"


class TravelCost(models.Model):
    class Status(models.TextChoices):
        EXPECTED = "expected", _("Expected")
        CLAIMED = "claimed", _("Claimed")
        REIMBURSED = "reimbursed", _("Reimbursed")

    plan = models.ForeignKey(TravelPlan, on_delete=models.CASCADE, related_name="costs")
    what = models.CharField(_("what"), max_length=120)
    amount = models.DecimalField(_("amount"), max_digits=8, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.EXPECTED)

    objects = ScopedManager(organisation="plan__organisation")

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.what}: {self.amount} {self.currency}"


class ChecklistEntry(TimeStampedModel):
    """One item of a care checklist for one patient: travel, transition or benefits. The items
    themselves are data (``content/care/``); this row holds their state for the family."""

    class Kind(models.TextChoices):
        TRAVEL = "travel", _("Travel and stay")
        TRANSITION = "transition", _("Transition")
        BENEFITS = "benefits", _("Benefits")

    class Status(models.TextChoices):
        TODO = "todo", _("To do")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        NOT_APPLICABLE = "n_a", _("Does not apply")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.PROTECT, related_name="care_checklist"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    key = models.CharField(max_length=80)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.TODO)
    note = models.CharField(_("note"), max_length=300, blank=True)
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind", "key"], name="care_checklist_entry_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key} {self.status}"


class SchoolLetter(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        PatientProfile, on_delete=models.PROTECT, related_name="school_letters"
    )
    template = models.CharField(max_length=60)
    language = models.CharField(max_length=8)
    school = models.CharField(_("school"), max_length=200)
    body = models.TextField()
    written_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.school} ({self.language})"
