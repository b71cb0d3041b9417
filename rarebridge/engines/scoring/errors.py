"""Errors raised by the scoring engine.

Every error carries a stable machine-readable ``code`` and a ``params`` dict, so the domain
layer can translate the message (the English ``template`` is the msgid) instead of showing
``str(error)``. Parameter names match the keyword arguments of each class, which also lets
errors survive pickling (task queues, multiprocessing).
"""

from __future__ import annotations

from typing import Any, ClassVar


class ScoringError(Exception):
    """Base class: anything the scoring engine refuses to do."""

    code: ClassVar[str] = "scoring.error"
    template: ClassVar[str] = "The questionnaire could not be scored."

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = params
        super().__init__(self.template.format(**params))

    @property
    def message(self) -> str:
        return str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.params))


def _rebuild(cls: type[ScoringError], params: dict[str, Any]) -> ScoringError:
    return cls(**params)


# --- registry ----------------------------------------------------------------------------


class UnknownInstrumentError(ScoringError, LookupError):
    code = "scoring.unknown_instrument"
    template = "No scorer is registered for instrument {instrument}."

    def __init__(self, *, instrument: str, known: tuple[str, ...]) -> None:
        super().__init__(instrument=instrument, known=known)


class UnknownAlgorithmVersionError(ScoringError, LookupError):
    code = "scoring.unknown_algorithm_version"
    template = "Instrument {instrument} has no scoring algorithm version {version}."

    def __init__(self, *, instrument: str, version: str, known: tuple[str, ...]) -> None:
        super().__init__(instrument=instrument, version=version, known=known)


class InstrumentNotImplementedError(ScoringError, NotImplementedError):
    """The instrument is known, but no trustworthy public algorithm is implemented for it."""

    code = "scoring.instrument_not_implemented"
    template = "Scoring for instrument {instrument} is not implemented: {reason}"

    def __init__(self, *, instrument: str, reason: str) -> None:
        super().__init__(instrument=instrument, reason=reason)


# --- options -----------------------------------------------------------------------------


class InvalidOptionsError(ScoringError, ValueError):
    code = "scoring.invalid_option"
    template = "Scoring option {option} has the invalid value {value}; expected {expected}."

    def __init__(self, *, option: str, value: str, expected: str) -> None:
        super().__init__(option=option, value=value, expected=expected)


class OptionRequiredError(ScoringError, ValueError):
    """An option without a shippable default (a licensed or unknown item key) was not set."""

    code = "scoring.option_required"
    template = "Instrument {instrument} cannot be scored until the option {option} is set."

    def __init__(self, *, instrument: str, option: str) -> None:
        super().__init__(instrument=instrument, option=option)


# --- responses ---------------------------------------------------------------------------


class InvalidResponseError(ScoringError, ValueError):
    """Base class for problems with the submitted item values."""

    code = "scoring.invalid_response"


class MalformedResponseError(InvalidResponseError):
    code = "scoring.malformed_response"
    template = (
        "A response to instrument {instrument} must map item codes to answers, "
        "not be a value of type {value_type}."
    )

    def __init__(self, *, instrument: str, value_type: str) -> None:
        super().__init__(instrument=instrument, value_type=value_type)


class UnknownItemError(InvalidResponseError):
    code = "scoring.unknown_item"
    template = "Instrument {instrument} has no item {item}."

    def __init__(self, *, instrument: str, item: str) -> None:
        super().__init__(instrument=instrument, item=item)


class MalformedItemValueError(InvalidResponseError):
    code = "scoring.malformed_item_value"
    template = (
        "Item {item} of instrument {instrument} must be a whole number or empty, "
        "not a value of type {value_type}."
    )

    def __init__(self, *, instrument: str, item: str, value_type: str) -> None:
        super().__init__(instrument=instrument, item=item, value_type=value_type)


class ItemOutOfRangeError(InvalidResponseError):
    code = "scoring.item_out_of_range"
    template = (
        "Item {item} of instrument {instrument} has the value {value}; "
        "allowed values are {minimum} to {maximum}."
    )

    def __init__(
        self, *, instrument: str, item: str, value: int, minimum: int, maximum: int
    ) -> None:
        super().__init__(
            instrument=instrument, item=item, value=value, minimum=minimum, maximum=maximum
        )


class NotApplicableNotAllowedError(InvalidResponseError):
    code = "scoring.not_applicable_not_allowed"
    template = "Item {item} of instrument {instrument} cannot be marked not applicable."

    def __init__(self, *, instrument: str, item: str) -> None:
        super().__init__(instrument=instrument, item=item)


class AnsweredButNotApplicableError(InvalidResponseError):
    code = "scoring.answered_but_not_applicable"
    template = "Item {item} of instrument {instrument} is marked not applicable but has a value."

    def __init__(self, *, instrument: str, item: str) -> None:
        super().__init__(instrument=instrument, item=item)
