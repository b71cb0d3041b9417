"""Every write of an instrument: loading wording, importing external questionnaires, and a
person's answers (autosave with revisions, submission with scores from the engine).

Nothing here knows of studies. A study wraps these services (``trials.services.assessments``)
with its own checks: the window is open, the participant has not stopped, the study's
thresholds raise concerns. Care and implementation surveys call them directly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.engines.scoring import get_scorer
from rarebridge.engines.scoring.errors import ScoringError
from rarebridge.instruments.content import (
    CONTENT_DIR,
    NOT_APPLICABLE,
    questionnaire,
    questionnaire_json,
)
from rarebridge.instruments.external import (
    ExternalError,
    check_instrument_text,
    map_external,
    placeholders_left,
)
from rarebridge.instruments.models import (
    ExternalQuestionnaire,
    InstrumentText,
    Response,
    ResponseRevision,
)

# A check the caller runs on the locked response before anything is written (e.g. a study's
# "the window is open"); it raises ValidationError to refuse.
Guard = Callable[[Response], None]

# The items whose answer above 0 is a risk that must reach a person, by instrument.
RISK_ITEMS: dict[str, str] = {"phq9": "phq9-9"}

# What happens when a risk answer is submitted (or left unsubmitted past the grace period).
# ``instruments`` sits below ``safety`` and cannot raise a concern itself: the safety app
# registers its hook here when it is ready (``SafetyConfig.ready``), so every path that
# submits a response (a study, routine care, staff entry) reaches a person, and none can
# forget to. A hook takes (response, context) and is idempotent per response.
RiskHook = Callable[[Response, str], object]
RISK_HOOKS: list[RiskHook] = []


def risk_hook_register(hook: RiskHook) -> None:
    if hook not in RISK_HOOKS:
        RISK_HOOKS.append(hook)


def risk_answer(instrument: str, answers: Mapping[str, Any]) -> bool:
    """Whether the answers hold a risk answer (PHQ-9 item 9 above 0)."""
    item = RISK_ITEMS.get(instrument)
    value = answers.get(item) if item else None
    return isinstance(value, int) and value > 0


def missing_items(instrument: str, answers: Mapping[str, Any]) -> list[str]:
    """The questions left unanswered, in order (\"does not apply\" is an answer)."""
    form = questionnaire(instrument, "en")
    return [item.link_id for item in form.questions if answers.get(item.link_id) is None]


def instrument_available(code: str) -> bool:
    """Whether an instrument has both a shipped questionnaire and a scorer."""
    try:
        get_scorer(code)
    except ScoringError:
        return False
    return (CONTENT_DIR / "instruments" / code / "questionnaire.json").exists()


# --- answering ---------------------------------------------------------------------------


def response_start(
    *,
    subject: Any,
    instrument: str,
    organisation_id: int,
    language: str = "",
    by: Actor | Any,
) -> Response:
    """A new, empty response of ``subject`` to ``instrument``, outside any study.

    The person answers for themselves (a patient in routine care, a counsellor answering an
    implementation survey); the system may start one for them.
    """
    user = user_of(by)
    if user is not None and user.pk != subject.pk:
        raise PermissionDenied
    if not instrument_available(instrument):
        raise ValidationError(_("This questionnaire is not available."), code="instrument")
    return Response.objects.create(
        organisation_id=organisation_id,
        subject=subject,
        instrument=instrument,
        language=language or getattr(subject, "language", "") or "",
    )


@dataclass
class SaveResult:
    status: str  # "saved" | "conflict" | "invalid" | "closed" (a study's: kept as a draft)
    revision: int
    errors: dict[str, str]
    current: dict[str, Any] | None = None


def valid_values(instrument: str) -> dict[str, set[int | str]]:
    """Each question's allowed answer values, by linkId."""
    form = questionnaire(instrument, "en")
    return {item.link_id: {o.value for o in item.options} for item in form.questions}


def response_save(
    *,
    response: Response,
    answers: dict[str, Any],
    base_revision: int,
    by: Actor | Any,
    guard: Guard | None = None,
) -> SaveResult:
    """Autosave: store the answers as a new revision, unless someone saved in between."""
    user = user_of(by)
    valid = valid_values(response.instrument)
    clean: dict[str, int | str] = {}
    errors: dict[str, str] = {}
    for key, value in answers.items():
        if key not in valid:
            errors[key] = _("Unknown question.")
            continue
        if value in (None, ""):
            continue
        allowed = {str(v): v for v in valid[key]}
        if str(value) not in allowed:
            errors[key] = _("Please choose one of the answers.")
        else:
            clean[key] = allowed[str(value)]
    if errors:
        return SaveResult("invalid", response.revision, errors)
    with transaction.atomic():
        response = Response.objects.select_for_update().get(pk=response.pk)
        if guard is not None:
            guard(response)
        if response.submitted_at is not None:
            return SaveResult("conflict", response.revision, {}, response.answers)
        if base_revision != response.revision:
            return SaveResult("conflict", response.revision, {}, response.answers)
        on_behalf = response.subject_id != getattr(user, "pk", None)
        response.answers = clean
        response.revision += 1
        response.entered_by = user
        response.on_behalf = response.on_behalf or on_behalf
        response.save()
        ResponseRevision.objects.create(
            response=response,
            number=response.revision,
            answers=clean,
            saved_at=timezone.now(),
            saved_by=user,
        )
    return SaveResult("saved", response.revision, {})


@dataclass(frozen=True)
class Scored:
    """What the engine made of one response's answers, ready to store."""

    scores: dict[str, dict[str, Any]]
    algorithm: str
    options: dict[str, Any]
    flags: list[str]
    total: Any


def answers_score(
    *,
    instrument: str,
    answers: dict[str, Any],
    options: Any = None,
    total_at_least: Any = None,
) -> Scored:
    """Score answers with the engine. ``total_at_least`` adds the ``total_at_threshold`` flag
    when the total reaches it (a study's or a service's threshold).

    A "does not apply" answer goes to the scorer as not applicable (the instrument's rule for
    it decides); any other unanswered question is missing, and the instrument's own
    missing-item rule decides whether a score exists. ``items_missing`` is flagged then.
    """
    scorer = get_scorer(instrument)
    not_applicable = {
        key
        for key, value in answers.items()
        if value == NOT_APPLICABLE and key in scorer.not_applicable_items
    }
    values = {
        key: value
        for key, value in answers.items()
        if key not in not_applicable and isinstance(value, int)
    }
    result = scorer.score(values, scorer.parse_options(options), not_applicable=not_applicable)
    flags = set(result.flags)
    if missing_items(instrument, answers):
        flags.add("items_missing")
    total = result.values.get("total")
    if total_at_least is not None and total is not None and total >= total_at_least:
        flags.add("total_at_threshold")
    return Scored(
        scores={
            name: {
                "value": s.value,
                "status": str(s.status),
                "band": s.band,
                "missing_rule": s.missing_rule,
            }
            for name, s in result.scores.items()
        },
        algorithm=result.algorithm,
        options=result.options.to_dict(),
        flags=sorted(flags),
        total=total,
    )


@dataclass
class Submitted:
    response: Response
    newly: bool  # False when it had been submitted before: nothing changed
    total: Any = None


def response_submit(
    *,
    response: Response,
    by: Actor | Any,
    options: Mapping[str, Any] | None = None,
    thresholds: Mapping[str, Any] | None = None,
    guard: Guard | None = None,
    audit: str | None = "instruments.response.submitted",
    context: str = "",
) -> Submitted:
    """Score the answers with the engine and close the response.

    ``options`` are per-instrument scorer options and ``thresholds`` ``<instrument>_total_at_least``
    values (both as in a study file). The flags (``risk_item_positive`` …) are stored on the
    response. A risk answer reaches a person through the registered risk hooks (the safety
    app's), whoever calls: ``context`` says where it was given (a study's timepoint).
    ``audit`` None leaves the entry to a caller that writes its own.
    """
    user = user_of(by)
    with transaction.atomic():
        response = Response.objects.select_for_update(of=("self",)).get(pk=response.pk)
        if guard is not None:
            guard(response)
        if response.submitted_at is not None:
            return Submitted(response, newly=False)
        scored = answers_score(
            instrument=response.instrument,
            answers=response.answers,
            options=(options or {}).get(response.instrument),
            total_at_least=(thresholds or {}).get(f"{response.instrument}_total_at_least"),
        )
        response.scores = scored.scores
        response.algorithm = scored.algorithm
        response.scoring_options = scored.options
        response.flags = scored.flags
        response.submitted_at = timezone.now()
        if response.subject_id != getattr(user, "pk", None):
            response.on_behalf = True
            response.entered_by = user
        response.save()
        if audit:
            audit_log(
                action=audit,
                actor=by,
                obj=response,
                payload={
                    "algorithm": response.algorithm,
                    "flags": response.flags,
                    "on_behalf": response.on_behalf,
                },
            )
        if risk_answer(response.instrument, response.answers):
            for hook in RISK_HOOKS:
                hook(response, context)
    return Submitted(response, newly=True, total=scored.total)


# --- instruments from elsewhere ------------------------------------------------------------


def instrument_text_load(
    *, instrument: str, language: str, data: dict, official: bool = False, by: Any = None
) -> tuple[InstrumentText, bool, list[str]]:
    """Load a deployment's licensed (or official) wording for one instrument and language.
    Refuses the whole file, changing nothing, when anything is wrong. Loading the same file
    twice changes nothing. Returns (row, created, placeholders still left)."""
    form = questionnaire_json(instrument)
    problems = check_instrument_text(
        questionnaire=form, instrument=instrument, language=language, data=data
    )
    if problems:
        raise ExternalError(problems)
    digest = hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    with transaction.atomic():
        row, created = InstrumentText.objects.get_or_create(
            instrument=instrument,
            language=language,
            sha256=digest,
            defaults={
                "source": data["source"],
                "items": data.get("items", {}),
                "answers": data.get("answers", {}),
                "provenance": "official" if official else "licensed",
            },
        )
        if created:
            audit_log(
                action="trials.instrument_text.loaded",
                actor=by,
                obj=row,
                payload={
                    "instrument": instrument,
                    "language": language,
                    "sha256": digest,
                    "source": data["source"],
                },
            )
    return row, created, placeholders_left(questionnaire=form, texts=row.items)


def external_questionnaire_import(
    *, data: dict, instrument: str, by: Any = None, link_map: dict[str, str] | None = None
) -> ExternalQuestionnaire:
    """Map an external SDC questionnaire onto one of ours and keep the mapping; ``link_map``
    (external linkId -> ours) matches items that carry no code."""
    mapping = map_external(
        external=data, ours=questionnaire_json(instrument), instrument=instrument, link_map=link_map
    )
    with transaction.atomic():
        row, _created = ExternalQuestionnaire.objects.update_or_create(
            url=mapping.url or f"urn:external:{instrument}",
            defaults={
                "instrument": instrument,
                "link_ids": mapping.link_ids,
                "answers": mapping.answers,
            },
        )
        audit_log(
            action="trials.external_questionnaire.imported",
            actor=by,
            obj=row,
            payload={"instrument": instrument, "items": len(mapping.link_ids)},
        )
    return row
