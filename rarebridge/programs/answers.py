"""Checking what a patient typed into an exercise against its form definition.

Answers are stored as plain data (strings, numbers, lists) exactly as typed, and shown escaped.
Problems come back per field with a message in the active language; nothing is trimmed or
dropped silently.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

Errors = dict[str, str]


def _text(value: Any, limit: int) -> tuple[Any, str | None]:
    if not isinstance(value, str):
        return None, _("Please enter text.")
    if len(value) > limit:
        return value, _(
            "This is %(count)s characters long; the limit is %(limit)s. Please shorten it — nothing you typed has been lost."
        ) % {
            "count": len(value),
            "limit": limit,
        }
    return value, None


def _check(field: dict[str, Any], value: Any) -> tuple[Any, str | None]:
    kind = field["type"]
    if value in (None, "", []):
        return None, None
    if kind in ("text", "long_text"):
        return _text(value, field["max_length"])
    if kind == "single_choice":
        allowed = {c["value"] for c in field["choices"]}
        return (value, None) if value in allowed else (None, _("Please choose one of the options."))
    if kind == "multiple_choice":
        allowed = {c["value"] for c in field["choices"]}
        if not isinstance(value, list) or not set(value) <= allowed:
            return None, _("Please choose from the options.")
        if "max_selected" in field and len(value) > field["max_selected"]:
            return value, _("Please choose at most %(n)s.") % {"n": field["max_selected"]}
        return list(dict.fromkeys(value)), None
    if kind == "scale":
        try:
            number = int(value)
        except (TypeError, ValueError):
            return None, _("Please choose a number on the scale.")
        if not field["min"] <= number <= field["max"]:
            return None, _("Please choose a number from %(min)s to %(max)s.") % {
                "min": field["min"],
                "max": field["max"],
            }
        return number, None
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None, _("Please enter a list of items.")
        if len(value) > field["max_items"]:
            return value, _("Please keep to %(n)s items.") % {"n": field["max_items"]}
        for item in value:
            if len(item) > field["item_max_length"]:
                return value, _("An item is longer than %(n)s characters. Please shorten it.") % {
                    "n": field["item_max_length"]
                }
        return value, None
    if kind == "ranked_cards":
        allowed = {c["value"] for c in field["cards"]}
        if (
            not isinstance(value, list)
            or not set(value) <= allowed
            or len(set(value)) != len(value)
        ):
            return None, _("Please put the cards in order.")
        limit = field.get("max_ranked", len(allowed))
        return (
            (value[:limit], None)
            if len(value) <= limit
            else (value, _("Please choose at most %(n)s cards.") % {"n": limit})
        )
    if kind == "date":
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return None, _("Please enter a date like 2026-03-01.")
        return str(value), None
    if kind == "repeating_rows":
        if not isinstance(value, list):
            return None, _("Please add rows.")
        if len(value) > field["max_rows"]:
            return value, _("Please keep to %(n)s rows.") % {"n": field["max_rows"]}
        rows = []
        for index, row in enumerate(value, 1):
            cleaned, errors = clean_answers(field["fields"], row if isinstance(row, dict) else {})
            if errors:
                first = next(iter(errors.values()))
                return value, _("Row %(row)s: %(error)s") % {"row": index, "error": first}
            rows.append(cleaned)
        return rows, None
    return None, _("Unknown kind of question.")


def clean_answers(
    fields: list[dict[str, Any]], data: dict[str, Any]
) -> tuple[dict[str, Any], Errors]:
    """The answers keyed by field id, and a message for each field that is not valid."""
    cleaned: dict[str, Any] = {}
    errors: Errors = {}
    known = {f["id"]: f for f in fields}
    for key in data:
        if key not in known:
            errors[key] = _("This question is not part of the exercise.")
    for field in fields:
        value, error = _check(field, data.get(field["id"]))
        if error:
            errors[field["id"]] = error
        if value is not None:
            cleaned[field["id"]] = value
    return cleaned, errors


def missing_required(fields: list[dict[str, Any]], data: dict[str, Any]) -> list[str]:
    return [f["id"] for f in fields if f.get("required") and data.get(f["id"]) in (None, "", [])]
