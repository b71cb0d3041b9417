"""What the clinic page says about planning under way and the last re-plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rarebridge.care.models import Clinic, ClinicInvitation, ClinicReplan, RequiredAppointment

CHANGE_TEXT = {
    ClinicReplan.Reason.APPOINTMENT_CANCELLED: gettext_lazy("%(what)s cancelled for %(name)s"),
    ClinicReplan.Reason.INVITATION_CANCELLED: gettext_lazy("%(name)s cannot come"),
    ClinicReplan.Reason.PROFESSIONAL_LATE: gettext_lazy("%(who)s arrives at %(time)s on %(date)s"),
    ClinicReplan.Reason.SETUP_CHANGED: gettext_lazy("The set-up changed"),
}


@dataclass(frozen=True)
class MovedLine:
    name: str
    what: str
    was: Any  # None: it had no place before
    now: Any


def clinic_progress(*, clinic: Clinic) -> dict[str, Any]:
    """What the clinic page says about planning: a plan or re-plan under way (the changes it
    is about), and the outcome of the last re-plan since the last plan."""
    queued = list(clinic.replans.filter(status=ClinicReplan.Status.QUEUED).order_by("pk"))
    last = (
        clinic.replans.exclude(status=ClinicReplan.Status.QUEUED).order_by("-finished_at").first()
    )
    if (
        last is not None
        and clinic.planned_at
        and last.finished_at is not None
        and last.finished_at < clinic.planned_at
    ):
        last = None  # a plan from scratch came after it
    batch = list(clinic.replans.filter(batch=last.batch).order_by("pk")) if last else []
    shown = [*queued, *batch]
    invitation_ids = {r.params.get("invitation") for r in shown}
    invitation_ids |= {m["invitation"] for m in last.moved} if last else set()
    names = dict(
        ClinicInvitation.objects.filter(pk__in=invitation_ids - {None}).values_list(
            "pk", "patient__user__full_name"
        )
    )
    labels = (
        dict(
            RequiredAppointment.objects.filter(
                pk__in={m["appointment"] for m in last.moved if m["appointment"]}
            ).values_list("pk", "label")
        )
        if last
        else {}
    )
    moved = [
        MovedLine(
            name=names.get(m["invitation"], ""),
            what=labels.get(m["appointment"], "") if m["appointment"] else _("Round table"),
            was=datetime.fromisoformat(m["from"]) if m["from"] else None,
            now=datetime.fromisoformat(m["to"]),
        )
        for m in (last.moved if last else [])
    ]
    return {
        "planning": clinic.planning_since is not None,
        "replanning": [_change_text(r, names) for r in queued],
        "replanning_since": queued[0].requested_at if queued else None,
        "busy": clinic.planning_since is not None or bool(queued),
        "last_replan": {
            "changes": [_change_text(r, names) for r in batch],
            "kept": last.status == ClinicReplan.Status.KEPT,
            "at": last.finished_at,
            "moved": moved,
        }
        if last
        else None,
    }


def _change_text(replan: ClinicReplan, names: dict[int, str]) -> str:
    params = replan.params
    day = params.get("day")
    return str(CHANGE_TEXT[ClinicReplan.Reason(replan.reason)]) % {
        "what": params.get("label", ""),
        "name": names.get(params.get("invitation"), _("a family")),
        "who": params.get("name", ""),
        "time": params.get("arrives", ""),
        "date": date_format(date.fromisoformat(day), "DATE_FORMAT") if day else "",
    }


def clinic_busy(*, clinic: Clinic) -> bool:
    return (
        clinic.planning_since is not None
        or clinic.replans.filter(status=ClinicReplan.Status.QUEUED).exists()
    )
