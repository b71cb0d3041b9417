"""The ORPHAcode catalogue, and the conditions people live with.

- The **catalogue** (``Condition``, ``CrossReference``) is reference data shared by every
  organisation of a deployment and shown to visitors who are not signed in: no organisation, no
  scoped manager.
- A person's **condition** is a row of the same shape for everyone (``PersonCondition``): a
  patient's (``PatientCondition``, here) and a counsellor's (``CounsellorCondition``, in
  ``rarebridge.counselling``, which sits above this app). Each is part of that person's record
  at their organisation: organisation FK and ``ScopedManager``.

Directory, counselling (matching), trials and care read these; this app imports none of them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from rarebridge.accounts.models import PatientProfile
from rarebridge.core.models import TimeStampedModel
from rarebridge.network.models import Organisation, pick_translation

# Codes from here up are RareBridge placeholders for groups whose ORPHAcode is not known yet.
LOCAL_CODE_START = 9_000_000


# --- the catalogue -------------------------------------------------------------------------


class Condition(TimeStampedModel):
    """A clinical entity of the Orphanet nomenclature, identified by its ORPHAcode.

    Groups (``level="group"``) are conditions too: the classification is a poly-hierarchy in
    which a disorder may sit in several groups, so ``parents`` is many-to-many. Names and
    synonyms are kept per language code: ``{"en": "Primary sclerosing cholangitis", ...}`` and
    ``{"en": ["PSC"], ...}``. Search runs in Python over an in-memory index built from these
    (``rarebridge.conditions.catalogue``), the same on SQLite and PostgreSQL.
    """

    class Level(models.TextChoices):
        GROUP = "group", _("Group of conditions")
        DISORDER = "disorder", _("Condition")
        SUBTYPE = "subtype", _("Subtype")

    orphacode = models.PositiveIntegerField(_("ORPHAcode"), unique=True)
    level = models.CharField(
        _("level"), max_length=10, choices=Level.choices, default=Level.DISORDER
    )
    names = models.JSONField(_("names by language"), default=dict)
    synonyms = models.JSONField(_("synonyms by language"), default=dict, blank=True)
    parents = models.ManyToManyField(
        "self", symmetrical=False, related_name="children", blank=True, verbose_name=_("groups")
    )
    is_active = models.BooleanField(_("active"), default=True)
    source = models.CharField(_("source"), max_length=40, blank=True)
    # Bumped by every change, parents included: the search index is rebuilt when it moves.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["orphacode"]
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")

    def __str__(self) -> str:
        return f"{self.name} (ORPHA:{self.orphacode})"

    @property
    def name(self) -> str:
        return pick_translation(self.names) or f"ORPHA:{self.orphacode}"

    def name_in(self, language: str) -> str:
        return pick_translation(self.names, language) or f"ORPHA:{self.orphacode}"

    def synonyms_in(self, language: str) -> list[str]:
        return list(self.synonyms.get(language, []))

    @property
    def is_group(self) -> bool:
        return self.level == self.Level.GROUP

    @property
    def is_local(self) -> bool:
        """A RareBridge placeholder, not an ORPHAcode: never shown as "ORPHA:…"."""
        return self.orphacode >= LOCAL_CODE_START

    @property
    def code_label(self) -> str:
        return "" if self.is_local else f"ORPHA:{self.orphacode}"


class CrossReference(models.Model):
    """The condition's code in another terminology, with Orphanet's mapping relation."""

    class System(models.TextChoices):
        ICD10 = "ICD-10", "ICD-10"
        ICD11 = "ICD-11", "ICD-11"
        OMIM = "OMIM", "OMIM"

    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="xrefs")
    system = models.CharField(_("terminology"), max_length=10, choices=System.choices)
    code = models.CharField(_("code"), max_length=40)
    # E: exact; NTBT / BTNT: narrower or broader; "" when the source did not say.
    mapping = models.CharField(_("mapping"), max_length=10, blank=True)

    class Meta:
        ordering = ["system", "code"]
        constraints = [
            models.UniqueConstraint(fields=["condition", "system", "code"], name="xref_unique")
        ]
        indexes = [models.Index(fields=["system", "code"])]

    def __str__(self) -> str:
        return f"{self.system} {self.code}"


# --- the conditions people live with --------------------------------------------------------


class PersonCondition(TimeStampedModel):
    """A condition a person lives with: part of their record at their organisation.

    Concrete subclasses add the person (``patient``, ``counsellor``) and a unique constraint
    on (person, condition).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        abstract = True
        ordering = ["created_at", "pk"]

    @property
    def orphacode(self) -> int:
        return self.condition.orphacode


class PatientCondition(PersonCondition):
    """A condition a patient lives with."""

    patient = models.ForeignKey(PatientProfile, on_delete=models.CASCADE, related_name="conditions")

    class Meta(PersonCondition.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "condition"], name="patient_condition_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient_id}: ORPHA:{self.condition_id}"
