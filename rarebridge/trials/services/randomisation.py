"""Randomisation: concealed allocation sequences per stratum, a statistician's table, or
minimisation; and what follows an allocation (the program, the assessment schedule)."""

from __future__ import annotations

import hmac
import random

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm
from rarebridge.engines import allocation as engine
from rarebridge.programs.services import enrolment_start
from rarebridge.trials.models import (
    Allocation,
    AllocationSlot,
    Participant,
    StratumCounter,
    Study,
)
from rarebridge.trials.selectors import consent_version_for, participant_allowed
from rarebridge.trials.services.assessments import schedule_assessments
from rarebridge.trials.services.enrolment import (
    RandomisationRefused,
    local_today,
    program_version,
)
from rarebridge.trials.services.telling import participant_tell

SEQUENCE_CHUNK = 100  # slots appended to a generated stratum when it runs out


def allocation_secret(study: Study) -> bytes:
    configured = settings.TRIALS_ALLOCATION_SECRET
    base = configured.encode() if configured else settings.SECRET_KEY.encode()
    return hmac.new(base, f"rarebridge.trials.allocation:{study.slug}".encode(), "sha256").digest()


def strata_factors(study: Study, *, site_name: str, diagnosis: str) -> dict[str, str]:
    values = {"site": site_name, "diagnosis": diagnosis}
    return {name: values[name] for name in study.definition["allocation"].get("strata", [])}


def _ratio(study: Study) -> engine.AllocationRatio:
    return engine.AllocationRatio.from_weights(
        {arm["code"]: arm["ratio"] for arm in study.definition["arms"]}
    )


def _design(study: Study) -> engine.BlockDesign:
    multipliers = tuple(study.definition["allocation"].get("block_multipliers", (1, 2, 3)))
    return engine.BlockDesign(ratio=_ratio(study), multipliers=multipliers)


def _append_generated(study: Study, counter: StratumCounter, length: int) -> None:
    sequence = engine.generate_sequence(
        secret=allocation_secret(study),
        stratum_key=counter.stratum,
        design=_design(study),
        length=length,
    )
    AllocationSlot.objects.bulk_create(
        AllocationSlot(
            study=study,
            stratum=counter.stratum,
            index=slot.index,
            block=slot.block,
            block_size=slot.block_size,
            arm=slot.arm,
            source=AllocationSlot.Source.SEQUENCE,
        )
        for slot in sequence[counter.generated :]
    )
    counter.generated = length
    counter.save(update_fields=["generated"])


def stratum_counter(*, study: Study, stratum: str) -> StratumCounter:
    """The stratum's counter, created (with its first generated slots) on first use."""
    counter = StratumCounter.objects.filter(study=study, stratum=stratum).first()
    if counter is not None:
        return counter
    try:
        with transaction.atomic():
            counter = StratumCounter.objects.create(study=study, stratum=stratum)
            if study.definition["allocation"]["method"] == "blocks":
                length = study.definition["allocation"].get("slots_per_stratum", SEQUENCE_CHUNK)
                _append_generated(study, counter, length)
    except IntegrityError:  # someone else created it at the same moment
        counter = StratumCounter.objects.get(study=study, stratum=stratum)
    return counter


def randomisation_blockers(*, participant: Participant) -> list[tuple[str, str]]:
    """Why the participant cannot be randomised now, as (code, message); empty when ready."""
    blockers = []
    if hasattr(participant, "allocation"):
        return [("already_randomised", _("This participant is already randomised."))]
    if participant.status == Participant.Status.WITHDRAWN:
        return [("withdrawn", _("This participant has withdrawn."))]
    consent = (
        participant.consents.filter(superseded_at__isnull=True).select_related("version").first()
    )
    if consent is None:
        blockers.append(("no_consent", _("The participant has not consented yet.")))
    elif not consent.is_complete:
        blockers.append(("no_countersignature", _("The consent awaits the countersignature.")))
    elif consent.version_id != getattr(consent_version_for(participant=participant), "pk", None):
        blockers.append(("reconsent_needed", _("A new consent version needs to be signed.")))
    baseline = participant.assessments.filter(timepoint="T0").first()
    if baseline is None or baseline.completed_at is None:
        blockers.append(
            ("baseline_missing", _("The baseline questionnaires (T0) are not complete."))
        )
    elif not primary_scoreable_at_t0(participant=participant, baseline=baseline):
        blockers.append(
            (
                "primary_not_scoreable",
                _("The primary outcome cannot be scored at baseline (T0): answers are missing."),
            )
        )
    return blockers


def primary_scoreable_at_t0(*, participant: Participant, baseline) -> bool:
    """Whether the baseline holds a score for the primary outcome (when the study asks for it:
    ``scoring.require_scoreable_primary_at_t0``). A study that names no ``primary_outcome``
    needs every baseline questionnaire scoreable (at least one score by its own rule)."""
    definition = participant.study.definition
    if not definition.get("scoring", {}).get("require_scoreable_primary_at_t0", True):
        return True
    responses = {r.instrument: r for r in baseline.responses.filter(submitted_at__isnull=False)}
    primary = definition.get("primary_outcome")
    if primary:
        response = responses.get(primary["instrument"])
        score = (response.scores if response else {}).get(primary["score"]) or {}
        return score.get("value") is not None
    return all(
        any((s or {}).get("value") is not None for s in r.scores.values())
        for r in responses.values()
    )


def participant_randomise(*, participant: Participant, by: Actor | User | None) -> Allocation:
    """Allocate the next concealed slot of the participant's stratum.

    Everything happens in one transaction: the allocation, the schedule and (intervention
    arm) the enrolment are stored together or not at all.
    """
    user = user_of(by)
    if user is not None and not participant_allowed(
        user=user, site=participant.site, perm=Perm.PARTICIPANT_RANDOMISE
    ):
        raise PermissionDenied
    study = participant.study
    method = study.definition["allocation"]["method"]
    factors = strata_factors(
        study, site_name=participant.site.name, diagnosis=participant.diagnosis
    )
    stratum = engine.stratum_key(factors=factors)
    if method != "minimisation":
        stratum_counter(study=study, stratum=stratum)
    else:
        stratum_counter(study=study, stratum=engine.UNSTRATIFIED)
    with transaction.atomic():
        participant = (
            Participant.objects.select_for_update(of=("self",))
            .select_related("study", "site", "patient__user")
            .get(pk=participant.pk)
        )
        blockers = randomisation_blockers(participant=participant)
        if blockers:
            code, message = blockers[0]
            raise RandomisationRefused(code, message)
        now = timezone.now()
        if method == "minimisation":
            arm, slot_index = _minimise(study=study, factors=factors), None
        else:
            counter = StratumCounter.objects.select_for_update().get(study=study, stratum=stratum)
            if counter.used >= counter.generated:
                if method != "blocks":
                    raise RandomisationRefused(
                        "sequence_exhausted",
                        _("The allocation table has no slot left for this stratum."),
                    )
                _append_generated(study, counter, counter.generated + SEQUENCE_CHUNK)
            slot = AllocationSlot.objects.get(study=study, stratum=stratum, index=counter.used + 1)
            StratumCounter.objects.filter(pk=counter.pk).update(used=F("used") + 1)
            arm, slot_index = slot.arm, slot.index
        allocation = Allocation.objects.create(
            organisation_id=participant.organisation_id,
            participant=participant,
            study=study,
            arm=arm,
            stratum=stratum,
            factors=factors,
            slot_index=slot_index,
            method=Allocation.Method(method),
            randomised_at=now,
            randomised_by=user,
        )
        participant.status = Participant.Status.RANDOMISED
        participant.save(update_fields=["status", "updated_at"])
        _after_allocation(participant=participant, allocation=allocation, by=by)
        audit_log(
            action="trials.participant.randomised",
            actor=by,
            obj=participant,
            payload={"stratum": stratum, "slot": slot_index, "method": method},
        )
        arm_definition = study.arm(arm)
        next_assessment = (
            participant.assessments.filter(completed_at__isnull=True, due_at__isnull=False)
            .order_by("due_at")
            .first()
        )
        participant_tell(
            participant=participant,
            template_key="study_randomised",
            event=f"allocation:{allocation.pk}",
            context={
                "when": now,
                "receives_program": bool(arm_definition["receives_program"]),
                "program_after_t2": bool(arm_definition.get("program_after_t2")),
                "next_due": next_assessment.due_at if next_assessment else None,
            },
        )
    return allocation


def _minimise(*, study: Study, factors: dict[str, str]) -> str:
    # The study-wide counter row serialises minimisation: each choice sees all earlier ones.
    lock = StratumCounter.objects.select_for_update().get(study=study, stratum=engine.UNSTRATIFIED)
    earlier = Allocation.objects.filter(study=study).values_list("factors", "arm")
    counts = engine.minimisation_counts(allocations=list(earlier))
    design = engine.MinimisationDesign(
        ratio=_ratio(study),
        factor_weights=dict.fromkeys(factors, 1),
        p=float(study.definition["allocation"].get("minimisation_p", 0.8)),
    )
    seed = hmac.new(allocation_secret(study), str(lock.used).encode(), "sha256").digest()
    result = engine.minimise(
        factors=factors,
        counts=counts,
        design=design,
        rng=random.Random(seed),  # noqa: S311
    )
    StratumCounter.objects.filter(pk=lock.pk).update(used=F("used") + 1)
    return result.arm


def _after_allocation(*, participant: Participant, allocation: Allocation, by) -> None:
    study = participant.study
    arm = study.arm(allocation.arm)
    program_start = None
    if arm["receives_program"]:
        program_start = local_today(participant)
        version = program_version(study)
        enrolment_start(
            patient=participant.patient,
            version=version,
            start_date=program_start,
            by=user_of(by),
        )
    schedule_assessments(
        participant=participant, randomised_at=allocation.randomised_at, program_start=program_start
    )


def allocation_table_load(*, study: Study, text: str, by: Actor | User) -> int:
    """Import a statistician's REDCap-style allocation table; taken whole or not at all."""
    if study.definition["allocation"]["method"] != "table":
        raise ValidationError(_("This study does not use an allocation table."))
    strata = study.definition["allocation"].get("strata", [])
    levels = {
        "site": [s["name"] for s in study.definition["sites"]],
        "diagnosis": [d["code"] for d in study.definition["diagnoses"]],
    }
    table = engine.allocation_table_import(
        text=text,
        arm_column="arm",
        arms=[a["code"] for a in study.definition["arms"]],
        factors={name: levels[name] for name in strata},
    )
    with transaction.atomic():
        if Allocation.objects.filter(study=study).exists():
            raise ValidationError(_("Randomisation has started; the table cannot be replaced."))
        AllocationSlot.objects.filter(study=study).delete()
        StratumCounter.objects.filter(study=study).delete()
        for key, slots in table.strata.items():
            StratumCounter.objects.create(study=study, stratum=key, generated=len(slots))
            AllocationSlot.objects.bulk_create(
                AllocationSlot(
                    study=study,
                    stratum=key,
                    index=slot.index,
                    arm=slot.arm,
                    source=AllocationSlot.Source.TABLE,
                )
                for slot in slots
            )
        audit_log(
            action="trials.allocation_table.imported",
            actor=by,
            obj=study,
            payload={"slots": table.slot_count, "strata": len(table.strata)},
        )
    return table.slot_count
