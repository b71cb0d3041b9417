"""Organisations, countries, sites and crisis resources."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from rarebridge.core.models import TimeStampedModel
from rarebridge.core.timezones import validate_time_zone
from rarebridge.network.phones import phone_display, phone_uri


def pick_translation(texts: dict[str, str], language: str | None = None) -> str:
    """The text in ``language`` (or the active one), else English, else any."""
    language = (language or get_language() or "en").split("-")[0]
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


class Shown(str):
    """A text picked for the reader's language, knowing which language it is in: ``fallback``
    is True when the reader's own language was missing and another one stands in."""

    language: str
    fallback: bool


def pick_translation_marked(texts: dict[str, str], language: str | None = None) -> Shown:
    language = (language or get_language() or "en").split("-")[0]
    for code in (language, "en", *texts):
        if texts.get(code):
            shown = Shown(texts[code])
            shown.language, shown.fallback = code, code != language
            return shown
    shown = Shown("")
    shown.language, shown.fallback = language, False
    return shown


class Country(models.Model):
    code = models.CharField(_("ISO code"), max_length=2, primary_key=True)
    names = models.JSONField(_("names by language"), default=dict)
    emergency_number = models.CharField(_("emergency number"), max_length=20)
    default_time_zone = models.CharField(
        _("default time zone"), max_length=64, validators=[validate_time_zone]
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return pick_translation(self.names) or self.code


class Organisation(TimeStampedModel):
    class Kind(models.TextChoices):
        HOSPITAL_NETWORK = "hospital_network", _("Hospital network")
        PATIENT_ORGANISATION = "patient_organisation", _("Patient organisation")
        RESEARCH_CONSORTIUM = "research_consortium", _("Research consortium")

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    # Matching: may a patient get a peer counsellor of another site of this organisation?
    # Off by default: matches stay within the patient's own site. The database default keeps
    # rows written by code that predates the column (a rolling deploy, older migrations) valid.
    cross_border_matching = models.BooleanField(
        _("cross-border matching"), default=False, db_default=False
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Site(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="sites")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(_("name"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="site_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class CrisisResource(TimeStampedModel):
    """A place to turn to in a crisis, for one country. Edited by program admins.

    Numbers change: each record shows when it was last checked, and a deployment confirms
    them with its sites before going live.
    """

    class Kind(models.TextChoices):
        EMERGENCY = "emergency", _("Emergency services")
        CRISIS_LINE = "crisis_line", _("Crisis line")

    class Hours(models.TextChoices):
        ALWAYS = "always", _("24 hours a day, 7 days a week")
        LIMITED = "limited", _("Limited hours")
        UNKNOWN = "unknown", _("Hours not confirmed")

    class Cost(models.TextChoices):
        FREE = "free", _("Free of charge")
        STANDARD = "standard", _("Standard call rate")
        UNKNOWN = "unknown", _("Cost not confirmed")

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="crisis_resources")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    # Canonical form (E.164, or the digits of a short number): see network.phones.
    phone = models.CharField(_("phone number"), max_length=30, blank=True)
    text_number = models.CharField(_("text message number"), max_length=30, blank=True)
    website = models.URLField(_("website"), blank=True)
    languages = models.JSONField(_("languages spoken"), default=list, blank=True)
    descriptions = models.JSONField(_("description by language"), default=dict, blank=True)
    # No default: whoever adds a line says whether it is open around the clock and free.
    hours = models.CharField(_("hours"), max_length=10, choices=Hours.choices)
    hours_texts = models.JSONField(_("opening hours by language"), default=dict, blank=True)
    cost = models.CharField(_("cost of a call"), max_length=10, choices=Cost.choices)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    last_checked = models.DateField(_("last checked"))
    is_active = models.BooleanField(_("shown"), default=True)

    class Meta:
        # Selectors put emergency services first whatever the order chosen here.
        ordering = ["country", "position", "name"]
        verbose_name = _("crisis resource")
        verbose_name_plural = _("crisis resources")

    def __str__(self) -> str:
        return f"{self.name} ({self.country_id})"

    def clean(self) -> None:
        if self.hours == self.Hours.LIMITED and not any(self.hours_texts.values()):
            raise ValidationError(
                {"hours": _("Say when the line is open, in at least one language.")}
            )

    @property
    def title(self) -> str:
        """The heading people see: emergency services are named in the reader's language."""
        if self.kind == self.Kind.EMERGENCY and self.phone:
            return gettext("Emergency %(number)s") % {"number": self.phone_display}
        return self.name

    @property
    def description(self) -> Shown:
        return pick_translation_marked(self.descriptions or {})

    @property
    def hours_text(self) -> Shown:
        return pick_translation_marked(self.hours_texts or {})

    @property
    def phone_display(self) -> str:
        return phone_display(self.phone, country_code=self.country_id)

    @property
    def text_number_display(self) -> str:
        return phone_display(self.text_number, country_code=self.country_id)

    @property
    def tel_link(self) -> str:
        return phone_uri(self.phone)

    @property
    def sms_link(self) -> str:
        return phone_uri(self.text_number, scheme="sms")
