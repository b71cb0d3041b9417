"""People, their roles, patient profiles and invitations."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from rarebridge.core.models import TimeStampedModel
from rarebridge.core.permissions import ORGANISATION_WIDE_ROLES, STAFF_ROLES, Role
from rarebridge.core.timezones import validate_time_zone
from rarebridge.network.models import Country, Organisation, Site


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. E-mail is the sign-in name."""

    class TextSize(models.TextChoices):
        NORMAL = "normal", _("Normal")
        LARGE = "large", _("Large")
        LARGER = "larger", _("Larger")

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    preferred_name = models.CharField(_("what we call you"), max_length=100, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )
    phone = models.CharField(
        _("mobile phone"), max_length=20, blank=True, help_text=_("Stored in international form.")
    )
    text_size = models.CharField(
        _("text size"), max_length=10, choices=TextSize.choices, default=TextSize.NORMAL
    )
    high_contrast = models.BooleanField(_("high contrast"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.full_name.split(" ")[0] or self.email

    # The roles are read once per request and cached on the instance.
    def active_roles(self) -> list[RoleAssignment]:
        if not hasattr(self, "_active_roles"):
            self._active_roles = list(
                self.role_assignments.filter(is_active=True).select_related(
                    "organisation", "site", "site__country"
                )
            )
        return self._active_roles

    def role_set(self) -> set[str]:
        return {a.role for a in self.active_roles()}

    @property
    def is_patient(self) -> bool:
        return Role.PATIENT in self.role_set()

    @property
    def is_staff_member(self) -> bool:
        """Works with other people's data (every role but patient)."""
        return bool(self.role_set() & STAFF_ROLES)

    @property
    def organisation_ids(self) -> list[int]:
        return sorted({a.organisation_id for a in self.active_roles()})


class RoleAssignment(TimeStampedModel):
    """A role given to a person for an organisation, or for one site of it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=32, choices=[(r.value, r.name) for r in Role])
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="role_assignments"
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="role_assignments"
    )
    # A site-scoped role (supervisor, site coordinator) reaches its site only, unless this
    # says it reaches every site of the organisation. Roles organisation-wide by nature
    # (ORGANISATION_WIDE_ROLES) reach every site whatever this says.
    organisation_wide = models.BooleanField(_("reaches the whole organisation"), default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "organisation", "site"], name="role_assignment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.role} @ {self.site or self.organisation}"

    @property
    def reaches_organisation(self) -> bool:
        """Whether this assignment reaches every site of its organisation."""
        return self.organisation_wide or self.role in ORGANISATION_WIDE_ROLES


class PatientProfile(TimeStampedModel):
    """The patient side of a person: where they belong and their research code."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="patient_profile")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("participant code"), max_length=20, unique=True)
    year_of_birth = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["code"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")

    def __str__(self) -> str:
        return self.code


class Invitation(TimeStampedModel):
    """An invitation to join with a role. Only a hash of the token is stored."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=32, choices=[(r.value, r.name) for r in Role])
    email = models.EmailField(_("e-mail address"))
    full_name = models.CharField(_("full name"), max_length=200)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.role})"

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )
