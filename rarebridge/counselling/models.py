"""Which peer counsellor supports which patient. Calls and notes build on this."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django_scopes import ScopedManager

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.core.models import TimeStampedModel
from rarebridge.network.models import Organisation


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
