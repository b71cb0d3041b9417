"""Every write of the conditions app: the catalogue, and the conditions patients live with.

Each function validates, writes inside a transaction and leaves an audit entry. ``by`` is the
acting person: an :class:`~rarebridge.core.actor.Actor`, a user, or None for imports and the
demo. The audit actions keep their ``directory.*`` codes: they name what happened, not where
the code lives.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.accounts.selectors import patients_for_user
from rarebridge.conditions.catalogue import forget_catalogue
from rarebridge.conditions.models import Condition, CrossReference, PatientCondition
from rarebridge.conditions.orphanet import ConditionRecord, merge_records
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm

CONTENT_DIR = Path(settings.BASE_DIR) / "content"
CONDITIONS_FILE = CONTENT_DIR / "conditions" / "conditions.json"


# --- the catalogue -----------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    parent_links: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _record_changes(condition: Condition, record: ConditionRecord) -> bool:
    changed = False
    names = {**condition.names, **{k: v for k, v in record.names.items() if v}}
    if names != condition.names:
        condition.names = names
        changed = True
    synonyms = {**condition.synonyms, **record.synonyms}
    if synonyms != condition.synonyms:
        condition.synonyms = synonyms
        changed = True
    if record.level and record.level != condition.level:
        condition.level = record.level
        changed = True
    if record.is_active != condition.is_active:
        condition.is_active = record.is_active
        changed = True
    return changed


@transaction.atomic
def conditions_import(
    *,
    records: Iterable[ConditionRecord],
    source: str,
    by: Actor | User | None = None,
) -> ImportResult:
    """Create or update conditions by ORPHAcode; safe to run again with the same files.

    Names and synonyms are replaced per language present in the records, parents and
    cross-references only for records that carry them. A new ORPHAcode without any name (a
    child only mentioned in a classification) is skipped.
    """
    merged = merge_records(records)
    result = ImportResult()
    now = timezone.now()
    existing = Condition.objects.in_bulk([r.orphacode for r in merged], field_name="orphacode")
    to_create: list[Condition] = []
    to_update: list[Condition] = []
    for record in merged:
        condition = existing.get(record.orphacode)
        if condition is None:
            if not record.names:
                result.skipped += 1
                continue
            condition = Condition(
                orphacode=record.orphacode,
                level=record.level or Condition.Level.DISORDER,
                names={k: v for k, v in record.names.items() if v},
                synonyms=record.synonyms,
                is_active=record.is_active,
                source=source,
            )
            to_create.append(condition)
        elif _record_changes(condition, record):
            condition.source = source
            condition.updated_at = now
            to_update.append(condition)
    Condition.objects.bulk_create(to_create, batch_size=1000)
    Condition.objects.bulk_update(
        to_update,
        ["names", "synonyms", "level", "is_active", "source", "updated_at"],
        batch_size=500,
    )
    result.created, result.updated = len(to_create), len(to_update)
    by_code = {
        c.orphacode: c
        for c in Condition.objects.filter(orphacode__in=[r.orphacode for r in merged]).only(
            "pk", "orphacode"
        )
    }
    parents_changed = _import_parents(merged, by_code, result)
    xrefs_changed = _import_xrefs(merged, by_code)
    touched = (parents_changed | xrefs_changed) - {c.pk for c in to_create + to_update}
    if touched:
        Condition.objects.filter(pk__in=touched).update(updated_at=now)
    result.unchanged = len(merged) - result.created - result.updated - result.skipped
    audit_log(
        action="directory.catalogue.imported",
        actor=by,
        payload={"source": source, **result.as_dict()},
    )
    # This process rebuilds its index on the next search (this transaction sees the change
    # already; others once it commits). Other processes notice the new version themselves.
    forget_catalogue()
    transaction.on_commit(forget_catalogue)
    return result


def _import_parents(
    records: list[ConditionRecord], by_code: dict[int, Condition], result: ImportResult
) -> set[int]:
    """Replace the parents of every record that says something about them."""
    through = Condition.parents.through
    wanted: dict[int, set[int]] = {}
    for record in records:
        child = by_code.get(record.orphacode)
        if record.parents is None or child is None:
            continue
        parent_ids = set()
        for code in record.parents:
            parent = by_code.get(code) or Condition.objects.filter(orphacode=code).first()
            if parent is not None and parent.pk != child.pk:
                parent_ids.add(parent.pk)
        wanted[child.pk] = parent_ids
    if not wanted:
        return set()
    current: dict[int, set[int]] = {pk: set() for pk in wanted}
    for child_id, parent_id in through.objects.filter(from_condition_id__in=wanted).values_list(
        "from_condition_id", "to_condition_id"
    ):
        current[child_id].add(parent_id)
    changed = {pk for pk in wanted if wanted[pk] != current[pk]}
    if changed:
        through.objects.filter(from_condition_id__in=changed).delete()
        through.objects.bulk_create(
            [
                through(from_condition_id=child, to_condition_id=parent)
                for child in changed
                for parent in wanted[child]
            ],
            batch_size=2000,
        )
    result.parent_links = sum(len(p) for p in wanted.values())
    return changed


def _import_xrefs(records: list[ConditionRecord], by_code: dict[int, Condition]) -> set[int]:
    wanted: dict[int, set[tuple[str, str, str]]] = {}
    for record in records:
        condition = by_code.get(record.orphacode)
        if record.xrefs is not None and condition is not None:
            wanted[condition.pk] = {x for x in record.xrefs if x[0] in CrossReference.System.values}
    if not wanted:
        return set()
    current: dict[int, set[tuple[str, str, str]]] = {pk: set() for pk in wanted}
    for row in CrossReference.objects.filter(condition_id__in=wanted).values_list(
        "condition_id", "system", "code", "mapping"
    ):
        current[row[0]].add(row[1:])
    changed = {pk for pk in wanted if wanted[pk] != current[pk]}
    if changed:
        CrossReference.objects.filter(condition_id__in=changed).delete()
        CrossReference.objects.bulk_create(
            [
                CrossReference(condition_id=pk, system=system, code=code[:40], mapping=mapping)
                for pk in changed
                for system, code, mapping in sorted(wanted[pk])
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
    return changed


def read_catalogue_content(path: Path = CONDITIONS_FILE) -> list[ConditionRecord]:
    """RareBridge's own catalogue file: names in six languages, written by hand."""
    data = json.loads(path.read_text(encoding="utf-8"))
    records = []
    for item in data["conditions"]:
        records.append(
            ConditionRecord(
                orphacode=int(item["orphacode"]),
                level=item.get("level", "disorder"),
                names=dict(item["names"]),
                synonyms={k: list(v) for k, v in item.get("synonyms", {}).items()},
                parents={int(p) for p in item.get("parents", [])},
                xrefs={(x[0], x[1], x[2] if len(x) > 2 else "") for x in item.get("xrefs", [])},
            )
        )
    return records


def catalogue_content_load(*, path: Path = CONDITIONS_FILE) -> ImportResult:
    return conditions_import(records=read_catalogue_content(path), source="rarebridge-content")


# --- a patient's condition -------------------------------------------------------------


def may_change_patient(by: Actor | User | None, patient: PatientProfile) -> bool:
    """The patient themselves, or staff who may change the patient's record."""
    user = user_of(by)
    if user is None:
        return False
    if patient.user_id == user.pk:
        return True
    return patients_for_user(user=user, perm=Perm.PATIENT_CHANGE).filter(pk=patient.pk).exists()


@transaction.atomic
def patient_condition_set(
    *, patient: PatientProfile, condition: Condition, by: Actor | User | None
) -> PatientCondition:
    """Record that the patient lives with ``condition`` (the patient themselves, or staff who
    may change the patient's record; ``by=None`` for imports and the demo)."""
    user = user_of(by)
    if user is not None and not may_change_patient(user, patient):
        raise PermissionDenied
    if not condition.is_active:
        raise ValidationError(_("This condition is no longer in the catalogue."))
    link, created = PatientCondition.objects.get_or_create(
        patient=patient,
        condition=condition,
        defaults={"organisation_id": patient.organisation_id, "added_by": user},
    )
    if created:
        audit_log(
            action="directory.patient_condition.added",
            actor=by,
            obj=link,
            payload={"orphacode": condition.orphacode},
        )
    return link


@transaction.atomic
def patient_condition_delete(*, link: PatientCondition, by: Actor | User) -> None:
    """Remove the row (callers check what depends on it first, such as the peer finder)."""
    if not may_change_patient(by, link.patient):
        raise PermissionDenied
    audit_log(
        action="directory.patient_condition.removed",
        actor=by,
        obj=link,
        payload={"orphacode": link.condition.orphacode},
    )
    link.delete()
