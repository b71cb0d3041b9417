"""The directory of organisations and groups, and the peer finder.

The catalogue of conditions (``Condition``) and the conditions patients live with
(``PatientCondition``) are in ``rarebridge.conditions``. Which data belongs to one
organisation, and which does not — decided here, on purpose:

- The **directory** (``DirectoryEntry`` and its countries, languages and conditions) is
  reference data shared by every organisation of a deployment and shown to visitors who are not
  signed in. It carries no organisation and no scoped manager.
- The **peer finder** (``PeerProfile``, ``ContactRequest``, ``PeerMessage``, ``PeerBlock``)
  exists to connect patients *across* organisations and borders. A scoped manager would hide
  the other person and make the feature impossible, so these models are deliberately not
  scoped. They hold only what the patient consented to share with peers (a chosen name, a
  condition, languages), every read goes through ``rarebridge.directory.selectors``, which
  filters to the patient's own profile, and ``PeerProfile.organisation`` is kept for audit
  entries and for routing reports, not for scoping.
- A **report** (``PeerReport``) is handled by the moderators of the reported person's
  organisation, which has the relationship with (and the duty of care for) that person: it is
  organisation-bound and scoped.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from rarebridge.accounts.models import PatientProfile
from rarebridge.conditions.models import Condition
from rarebridge.core.models import TimeStampedModel
from rarebridge.network.models import Organisation, pick_translation

STALE_AFTER = timedelta(days=365)


# --- the directory -------------------------------------------------------------------------


class DirectoryEntry(TimeStampedModel):
    """A patient organisation or support group. Public once a program admin has verified it.

    Texts people type are stored as plain text (tags and control characters removed by the
    service) and escaped wherever they are shown. ``name_key`` and ``website_key`` are folded
    forms used to spot duplicates.
    """

    class Kind(models.TextChoices):
        INTERNATIONAL_ALLIANCE = "international_alliance", _("International alliance")
        NATIONAL_ORGANISATION = "national_organisation", _("National organisation")
        ONLINE_COMMUNITY = "online_community", _("Online community")
        LOCAL_GROUP = "local_group", _("Local group")
        SOCIAL_MEDIA_GROUP = "social_media_group", _("Social-media group")

    class Status(models.TextChoices):
        SUGGESTED = "suggested", _("Waiting for verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_key = models.CharField(max_length=200, db_index=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    descriptions = models.JSONField(_("description by language"), default=dict, blank=True)
    how_to_join = models.JSONField(_("how to join, by language"), default=dict, blank=True)
    conditions = models.ManyToManyField(
        Condition, through="EntryCondition", related_name="directory_entries", blank=True
    )
    all_conditions = models.BooleanField(_("for all rare conditions"), default=False)
    international = models.BooleanField(_("open to people in every country"), default=False)
    contact_email = models.EmailField(_("contact e-mail address"), blank=True)
    contact_phone = models.CharField(_("contact phone number"), max_length=30, blank=True)
    website = models.URLField(_("website"), max_length=300, blank=True)
    website_key = models.CharField(max_length=300, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SUGGESTED
    )
    last_verified_on = models.DateField(_("last verified"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    suggested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    suggester_email = models.EmailField(_("suggester's e-mail address"), blank=True)
    conditions_note = models.TextField(_("conditions, as suggested"), blank=True)
    review_note = models.TextField(_("review note"), blank=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("directory entry")
        verbose_name_plural = _("directory entries")
        indexes = [models.Index(fields=["status", "kind"])]

    def __str__(self) -> str:
        return self.name

    @property
    def description(self) -> str:
        return pick_translation(self.descriptions) if self.descriptions else ""

    @property
    def joining(self) -> str:
        return pick_translation(self.how_to_join) if self.how_to_join else ""

    def is_stale(self, today: date | None = None) -> bool:
        """Verified, but nobody has checked it for more than a year."""
        if self.status != self.Status.VERIFIED or self.last_verified_on is None:
            return False
        return self.last_verified_on < (today or timezone.localdate()) - STALE_AFTER

    @property
    def stale(self) -> bool:
        return self.is_stale()


class EntryCondition(models.Model):
    entry = models.ForeignKey(DirectoryEntry, on_delete=models.CASCADE, related_name="+")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "condition"], name="entry_condition_unique")
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.condition_id}"


class EntryCountry(models.Model):
    """A country an entry serves, as an ISO 3166 code: entries may serve countries the
    deployment has no sites in, so this is not a foreign key to ``network.Country``."""

    entry = models.ForeignKey(DirectoryEntry, on_delete=models.CASCADE, related_name="countries")
    code = models.CharField(max_length=2, db_index=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "code"], name="entry_country_unique")
        ]

    def __str__(self) -> str:
        return self.code


class EntryLanguage(models.Model):
    entry = models.ForeignKey(DirectoryEntry, on_delete=models.CASCADE, related_name="languages")
    code = models.CharField(max_length=8, db_index=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "code"], name="entry_language_unique")
        ]

    def __str__(self) -> str:
        return self.code


# --- the peer finder -----------------------------------------------------------------------


class PeerProfile(TimeStampedModel):
    """A patient's consent to be findable by peers, and what they agreed to share.

    Cross-organisation on purpose (see the module docstring). ``status`` other than active
    takes the person out of every count and match at once.
    """

    class Scope(models.TextChoices):
        CONDITION = "condition", _("People with exactly my condition")
        GROUP = "group", _("People with my condition or a related one in the same group")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Findable")
        WITHDRAWN = "withdrawn", _("Left the peer finder")
        SUSPENDED = "suspended", _("Removed by a moderator")

    patient = models.OneToOneField(
        PatientProfile, on_delete=models.CASCADE, related_name="peer_profile"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(
        _("who may find me"), max_length=10, choices=Scope.choices, default=Scope.CONDITION
    )
    alias = models.CharField(_("name shown to peers"), max_length=40)
    country = models.CharField(_("country"), max_length=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    consent_version = models.CharField(max_length=20)
    joined_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "condition"])]

    def __str__(self) -> str:
        return self.alias

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def language_codes(self) -> list[str]:
        return [language.code for language in self.languages.all()]


class PeerLanguage(models.Model):
    profile = models.ForeignKey(PeerProfile, on_delete=models.CASCADE, related_name="languages")
    code = models.CharField(max_length=8, db_index=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "code"], name="peer_language_unique")
        ]

    def __str__(self) -> str:
        return self.code


class ContactRequest(TimeStampedModel):
    """One request to be put in touch with a peer, and — once both accept — their contact.

    Double opt-in: the requester asks (first consent); RareBridge picks a findable peer who
    shares the condition and a language and who has not been in touch with the requester
    before; that peer accepts (second consent). Until then neither sees anything about the
    other but the condition, the shared languages and the requester's short note.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for a match")
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Connected")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")
        CLOSED = "closed", _("Closed")

    class Reason(models.TextChoices):
        NONE = "", "—"
        REQUESTER_LEFT = "requester_left", _("The person who asked left the peer finder")
        RECIPIENT_LEFT = "recipient_left", _("The other person left the peer finder")
        BLOCKED = "blocked", _("Blocked")
        MODERATED = "moderated", _("Closed by a moderator")

    requester = models.ForeignKey(PeerProfile, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        PeerProfile, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=10, choices=PeerProfile.Scope.choices)
    note = models.TextField(_("a few words about yourself"), blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    closed_reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    matched_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    requester_shares_email = models.BooleanField(default=False)
    requester_shares_phone = models.BooleanField(default=False)
    recipient_shares_email = models.BooleanField(default=False)
    recipient_shares_phone = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "recipient"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="waiting") | Q(recipient__isnull=False),
                name="contact_matched_has_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"Contact request {self.pk} ({self.status})"

    OPEN = (Status.WAITING, Status.PENDING, Status.ACCEPTED)

    @property
    def is_connected(self) -> bool:
        return self.status == self.Status.ACCEPTED

    def side_of(self, profile: PeerProfile) -> str:
        if profile.pk == self.requester_id:
            return "requester"
        if profile.pk == self.recipient_id:
            return "recipient"
        raise ValueError("Not a party to this contact.")

    def other(self, profile: PeerProfile) -> PeerProfile | None:
        return self.recipient if self.side_of(profile) == "requester" else self.requester


class PeerMessage(models.Model):
    """A message between two connected peers, inside RareBridge. Plain text, escaped on output."""

    contact = models.ForeignKey(ContactRequest, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(PeerProfile, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Message {self.pk} in contact {self.contact_id}"


class PeerBlock(models.Model):
    """``blocker`` never hears from ``blocked`` again, and they are never matched again."""

    blocker = models.ForeignKey(PeerProfile, on_delete=models.CASCADE, related_name="+")
    blocked = models.ForeignKey(PeerProfile, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        ContactRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="peer_block_unique")
        ]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocked {self.blocked_id}"


class PeerReport(TimeStampedModel):
    """A report about a peer's behaviour, for the moderators of the reported person's
    organisation. Open → acknowledged → closed with an outcome; the reporter is told at each
    step."""

    class Reason(models.TextChoices):
        HARASSMENT = "harassment", _("Unkind, hurtful or harassing messages")
        CONTACT_PRESSURE = "contact_pressure", _("Pressure to share contact details or meet")
        SELLING = "selling", _("Selling, advertising or asking for money")
        SAFETY = "safety", _("I am worried about this person's safety")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", _("New")
        ACKNOWLEDGED = "acknowledged", _("Being looked at")
        CLOSED = "closed", _("Closed")

    class Outcome(models.TextChoices):
        NO_ACTION = "no_action", _("No action needed")
        CONTACT_CLOSED = "contact_closed", _("Contact closed")
        REMOVED = "removed", _("Removed from the peer finder")

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(ContactRequest, on_delete=models.PROTECT, related_name="reports")
    reporter = models.ForeignKey(PeerProfile, on_delete=models.PROTECT, related_name="+")
    reported = models.ForeignKey(PeerProfile, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("what happened"), max_length=20, choices=Reason.choices)
    details = models.TextField(_("details"), blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("note"), blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self) -> str:
        return f"Report {self.pk} ({self.status})"
