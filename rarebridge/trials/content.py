"""Reading study files and consent texts from ``content/``.

A study file is checked whole before anything is stored: every problem is reported at once.
Settings the sources leave open (instruments.md §15) are filled from ``SCORING_DEFAULTS``, so a
study file that says nothing about them still records the rule in force.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from rarebridge.engines.scoring import get_scorer
from rarebridge.engines.scoring.errors import ScoringError

CONTENT_DIR = Path(settings.BASE_DIR) / "content"

# The open questions of instruments.md §15, each a per-study setting with its default.
SCORING_DEFAULTS: dict[str, Any] = {
    # §15.1: SF-12 v1 with the 1990 US orthogonal weights (Ware 1995), the published default.
    "sf12_version": "v1",
    "sf12_norms": "us1990",
    # §15.2: the official rule: any missing item makes the summary score missing.
    "primary_missing_rule": "complete_only",
    # §15.3: the 14-item F-SozU short form, scored as a mean.
    "fsozu_form": "k14",
    # §15.4: ICQ coded 1-4 as in the original publication; the SSD-12 cut-off is not applied.
    "icq_coding": "1-4",
    "ssd12_cutoff_23": False,
    # §15.5: only public-domain item texts are shipped; licensed texts come from trial files.
    "item_texts": "shipped_public_domain_only",
    # §15.7: PHQ-15 item 4 (women only) does not apply to men: prorate over 14 items.
    "phq15_item4_not_applicable": "prorate",
    # Per-instrument scorer options (e.g. PHQ-9 missing-item rule); empty means engine defaults.
    "instrument_options": {},
    # Randomisation needs the primary outcome scoreable at T0 (not merely sent in).
    "require_scoreable_primary_at_t0": True,
}
# The study-level settings above that are scorer options, as (setting, instrument, option).
# An explicit ``instrument_options`` entry for the same option wins over the study setting.
STUDY_SCORER_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("phq15_item4_not_applicable", "phq15", "item4_not_applicable"),
    ("sf12_norms", "sf12v1", "norm_set"),
    ("icq_coding", "icq", "metric"),
)
# §15.6: item 9 always alerts; the optional total thresholds are off unless the study sets them.
SAFETY_DEFAULTS: dict[str, Any] = {
    "phq9_item9_positive": True,
    "phq9_total_at_least": None,
    "gad7_total_at_least": None,
}
INCLUSION = ("confirmed_diagnosis", "adult", "wants_support")
EXCLUSION = (
    "life_threatening",
    "acute_suicidality",
    "ongoing_psychotherapy",
    "insufficient_language",
    "cognitive_impairment",
)
METHODS = ("blocks", "table", "minimisation")
STRATA = ("site", "diagnosis")


def study_instrument_options(scoring: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The options each scorer gets in a study: its ``instrument_options`` with the study-level
    scoring settings (``phq15_item4_not_applicable`` …) applied."""
    options = {code: dict(opts or {}) for code, opts in scoring["instrument_options"].items()}
    for setting, instrument, option in STUDY_SCORER_OPTIONS:
        if setting in scoring:
            options.setdefault(instrument, {}).setdefault(option, scoring[setting])
    return options


class StudyFileError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class StudyFile:
    definition: dict[str, Any]
    checksum: str
    consent_texts: dict[str, dict[str, str]]  # site name or "*" → language → Markdown


def read_study(path: Path) -> StudyFile:
    """Parse and check a study file and the consent texts it names."""
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise StudyFileError([f"{path.name}: not valid JSON ({error})"]) from error
    problems: list[str] = []

    def need(key: str, kind: type) -> Any:
        value = data.get(key)
        if not isinstance(value, kind) or not value:
            problems.append(f"'{key}' is missing or not a {kind.__name__}")
            return kind()
        return value

    need("slug", str)
    need("title", dict)
    arms = need("arms", list)
    codes = [a.get("code") for a in arms if isinstance(a, dict)]
    if len(arms) < 2 or len(set(codes)) != len(arms) or not all(codes):
        problems.append("a study needs at least two arms with distinct codes")
    for arm in arms:
        if not isinstance(arm.get("ratio"), int) or arm["ratio"] < 1:
            problems.append(f"arm {arm.get('code')!r}: 'ratio' must be a whole number >= 1")
        if not isinstance(arm.get("receives_program"), bool):
            problems.append(f"arm {arm.get('code')!r}: say whether it 'receives_program'")
    sites = need("sites", list)
    for site in sites:
        if not site.get("name") or not isinstance(site.get("target"), int):
            problems.append(f"site {site!r}: needs a 'name' and a whole-number 'target'")
    diagnoses = need("diagnoses", list)
    if any(not d.get("code") for d in diagnoses):
        problems.append("every diagnosis needs a 'code'")
    eligibility = need("eligibility", dict)
    for key in eligibility.get("exclusion", []):
        if key not in EXCLUSION:
            problems.append(f"unknown exclusion criterion {key!r}")
    timepoints = need("timepoints", list)
    if [t.get("code") for t in timepoints] != ["T0", "T1", "T2"]:
        problems.append("timepoints must be T0, T1 and T2, in that order")
    for timepoint in timepoints:
        for instrument in timepoint.get("instruments", []):
            try:
                get_scorer(instrument)
            except ScoringError:
                problems.append(f"{timepoint.get('code')}: no scorer for {instrument!r}")
            if not (CONTENT_DIR / "instruments" / instrument / "questionnaire.json").exists():
                problems.append(f"{timepoint.get('code')}: no questionnaire for {instrument!r}")
    allocation = need("allocation", dict)
    if allocation.get("method") not in METHODS:
        problems.append(f"allocation 'method' must be one of {', '.join(METHODS)}")
    for factor in allocation.get("strata", []):
        if factor not in STRATA:
            problems.append(f"unknown stratification factor {factor!r}")
    consent = need("consent", dict)
    texts: dict[str, dict[str, str]] = {}
    for site_name, by_language in consent.get("texts", {}).items():
        for language, relative in by_language.items():
            file = CONTENT_DIR / relative
            if not file.exists():
                problems.append(f"consent text {relative} does not exist")
                continue
            texts.setdefault(site_name, {})[language] = file.read_text(encoding="utf-8")
    if not texts:
        problems.append("the consent names no texts")
    scoring = {**SCORING_DEFAULTS, **data.get("scoring", {})}
    if data.get("safety", {}).get("phq9_item9_positive", True) is not True:
        problems.append(
            "safety 'phq9_item9_positive' cannot be switched off: a PHQ-9 item 9 answer above 0 "
            "always raises an alert (leave it out or set it to true)"
        )
    primary = data.get("primary_outcome")
    if primary is not None:
        instruments_at_t0: list[str] = next(
            (t.get("instruments", []) for t in timepoints if t.get("code") == "T0"), []
        )
        if (
            not isinstance(primary, dict)
            or not primary.get("instrument")
            or not primary.get("score")
        ):
            problems.append("'primary_outcome' needs an 'instrument' and a 'score'")
        elif primary["instrument"] not in instruments_at_t0:
            problems.append(f"the primary outcome {primary['instrument']!r} is not given at T0")
    if not isinstance(data.get("demo_or_pilot", False), bool):
        problems.append("'demo_or_pilot' must be true or false")
    options_by_instrument = study_instrument_options(scoring)
    scheduled = {code for t in timepoints for code in t.get("instruments", [])}
    for instrument in sorted(set(options_by_instrument) | scheduled):
        try:
            scorer = get_scorer(instrument)
        except ScoringError as error:
            if instrument not in scheduled:  # a scheduled one is reported above
                problems.append(f"scoring options for {instrument!r}: {error}")
            continue
        try:
            # A scheduled instrument must be scoreable with the study's options (heiQ and
            # TExQ need the licensee's scale key): refused here, not at the first answer.
            scorer.check_options(scorer.parse_options(options_by_instrument.get(instrument)))
        except ScoringError as error:
            problems.append(f"scoring options for {instrument!r}: {error}")
    if problems:
        raise StudyFileError(problems)
    data["scoring"] = scoring
    data["safety"] = {**SAFETY_DEFAULTS, **data.get("safety", {})}
    digest = hashlib.sha256(raw)
    for site_name in sorted(texts):
        for language in sorted(texts[site_name]):
            digest.update(texts[site_name][language].encode())
    return StudyFile(definition=data, checksum=digest.hexdigest(), consent_texts=texts)
