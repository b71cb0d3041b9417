"""Questionnaire scoring engine: pure Python, standard library only.

    from rarebridge.engines.scoring import get_scorer

    result = get_scorer("phq9").score({"phq9-1": 2, "phq9-2": 1, …, "phq9-9": 0})
    result.values            # {"total": 7}
    result.bands             # {"total": "mild"}
    result.flags             # frozenset() — or {"risk_item_positive", …}
    result.algorithm         # "phq9@1": store it with the score
    result.options.to_dict() # the options used, JSON-friendly: store them too

**Input.** One response is a mapping of item code → raw integer answer; ``None`` or an absent
key means unanswered. Item codes are ``<instrument>-<n>`` with the item's number on the form
(``phq9-1`` … ``phq9-10``, ``icq-18``, ``fsozu_k6-3``), except SF-12, which keeps the Ware
1995 names (``GH1``, ``PF02``, ``PF04``, ``RP2``, ``RP3``, ``RE2``, ``RE3``, ``BP2``, ``MH3``,
``VT2``, ``MH4``, ``SF2``). Each scorer module documents its codes and raw coding;
``scorer.item_codes`` lists them. Answers are the raw codes of the form as printed — scorers
do every reversal and recoding themselves.

**Validation.** An unknown item code, a value that is not an integer (``bool``, ``float``,
``str``), or a value outside the item's range raises an ``InvalidResponseError`` subclass.
Every ``ScoringError`` has a machine-readable ``code`` and ``params`` for translation.

**Options.** Each instrument has a frozen options dataclass; every rule the sources leave open
is an option with a documented default. Pass an options object or its JSON form (a mapping) as
``score(responses, options)``; ``scorer.parse_options(mapping)`` validates once up front.

**Missing items.** Each ``Score`` names the rule in force (``all_required`` or
``prorate_max_<k>[_round_half_up]``) and its status (``complete``, ``prorated``, ``missing``).

**Versions.** ``get_scorer(code)`` gives the current algorithm; ``get_scorer(code, version)``
an exact one. An algorithm change that could alter any score gets a new version beside the old.
"""

from .base import (
    ItemSpec,
    Responses,
    Score,
    Scorer,
    ScoreResult,
    ScoreStatus,
    ScoringOptions,
)
from .bipq import BipqOptions
from .errors import (
    AnsweredButNotApplicableError,
    InstrumentNotImplementedError,
    InvalidOptionsError,
    InvalidResponseError,
    ItemOutOfRangeError,
    MalformedItemValueError,
    MalformedResponseError,
    NotApplicableNotAllowedError,
    OptionRequiredError,
    ScoringError,
    UnknownAlgorithmVersionError,
    UnknownInstrumentError,
    UnknownItemError,
)
from .fsozu import FsozuK6Options, FsozuK14Options
from .gad7 import Gad7Options
from .heiq import HeiqOptions
from .icq import IcqOptions
from .implementation import ImplementationMeasureOptions
from .phq9 import Phq9Options
from .phq15 import Phq15Options
from .registry import algorithm_versions, get_scorer, supported_instruments
from .sf12 import Sf12v1Options
from .ssd12 import Ssd12Options
from .swe import SweOptions
from .texq import TexqOptions

__all__ = [
    "AnsweredButNotApplicableError",
    "BipqOptions",
    "FsozuK6Options",
    "FsozuK14Options",
    "Gad7Options",
    "HeiqOptions",
    "IcqOptions",
    "ImplementationMeasureOptions",
    "InstrumentNotImplementedError",
    "InvalidOptionsError",
    "InvalidResponseError",
    "ItemOutOfRangeError",
    "ItemSpec",
    "MalformedItemValueError",
    "MalformedResponseError",
    "NotApplicableNotAllowedError",
    "OptionRequiredError",
    "Phq9Options",
    "Phq15Options",
    "Responses",
    "Score",
    "ScoreResult",
    "ScoreStatus",
    "Scorer",
    "ScoringError",
    "ScoringOptions",
    "Sf12v1Options",
    "Ssd12Options",
    "SweOptions",
    "TexqOptions",
    "UnknownAlgorithmVersionError",
    "UnknownInstrumentError",
    "UnknownItemError",
    "algorithm_versions",
    "get_scorer",
    "supported_instruments",
]
