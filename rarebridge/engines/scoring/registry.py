"""Which scorer scores which instrument, by algorithm version."""

from __future__ import annotations

from typing import Any

from .base import Scorer
from .bipq import BipqScorer
from .errors import (
    InstrumentNotImplementedError,
    UnknownAlgorithmVersionError,
    UnknownInstrumentError,
)
from .fsozu import FsozuK6Scorer, FsozuK14Scorer
from .gad7 import Gad7Scorer
from .heiq import HeiqScorer
from .icq import IcqScorer
from .implementation import AimScorer, FimScorer, IamScorer
from .phq9 import Phq9Scorer
from .phq15 import Phq15Scorer
from .sf12 import SF12_V2_REASON, Sf12v1Scorer
from .ssd12 import Ssd12Scorer
from .swe import SweScorer
from .texq import TexqScorer

# instrument code → {algorithm version → scorer}. The last version listed is the current one.
# A new algorithm version is added next to the old one, never in its place: stored scores name
# the version that made them and must stay reproducible.
_SCORERS: dict[str, dict[str, Scorer[Any]]] = {}

# Instruments we know about but deliberately refuse to score, with the reason.
_REFUSED: dict[str, str] = {"sf12v2": SF12_V2_REASON}


def _register(scorer: Scorer[Any]) -> None:
    versions = _SCORERS.setdefault(scorer.code, {})
    assert scorer.version not in versions, f"{scorer.algorithm} registered twice"
    versions[scorer.version] = scorer


for _scorer_class in (
    Sf12v1Scorer,
    Phq9Scorer,
    Gad7Scorer,
    Phq15Scorer,
    Ssd12Scorer,
    IcqScorer,
    BipqScorer,
    HeiqScorer,
    FsozuK14Scorer,
    FsozuK6Scorer,
    SweScorer,
    TexqScorer,
    AimScorer,
    IamScorer,
    FimScorer,
):
    _register(_scorer_class())


def supported_instruments() -> tuple[str, ...]:
    """Codes of every instrument that can be scored, in registration order."""
    return tuple(_SCORERS)


def algorithm_versions(instrument_code: str) -> tuple[str, ...]:
    """Every algorithm version of an instrument, oldest first."""
    return tuple(_versions(instrument_code))


def get_scorer(instrument_code: str, version: str | None = None) -> Scorer[Any]:
    """The scorer for ``instrument_code``: the current algorithm, or exactly ``version``.

    Pass the stored version to re-score old data with the algorithm that first scored it.
    """
    versions = _versions(instrument_code)
    if version is None:
        return next(reversed(versions.values()))
    try:
        return versions[version]
    except KeyError:
        raise UnknownAlgorithmVersionError(
            instrument=instrument_code, version=version, known=tuple(versions)
        ) from None


def _versions(instrument_code: str) -> dict[str, Scorer[Any]]:
    if instrument_code in _REFUSED:
        raise InstrumentNotImplementedError(
            instrument=instrument_code, reason=_REFUSED[instrument_code]
        )
    try:
        return _SCORERS[instrument_code]
    except KeyError:
        raise UnknownInstrumentError(
            instrument=instrument_code, known=supported_instruments()
        ) from None
