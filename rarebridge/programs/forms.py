"""Turning an exercise definition into form fields for a template, and a submitted form back
into answers. The same parser serves the plain form post and the autosave request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from rarebridge.network.models import pick_translation

EXTRA_ROWS = 1  # empty rows offered after the filled ones


@dataclass
class FieldView:
    id: str
    type: str
    name: str
    label: str
    help: str = ""
    required: bool = False
    value: Any = None
    error: str = ""
    max_length: int | None = None
    choices: list[dict[str, Any]] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)
    min_label: str = ""
    max_label: str = ""
    rows: list[list[FieldView]] = field(default_factory=list)
    add_label: str = ""
    max_rows: int = 0
    positions: list[int] = field(default_factory=list)


def _tr(value: Any, language: str) -> str:
    return pick_translation(value, language) if isinstance(value, dict) else ""


def field_views(
    fields: list[dict[str, Any]],
    data: dict[str, Any],
    errors: dict[str, str],
    language: str,
    prefix: str = "f",
) -> list[FieldView]:
    views = []
    for spec in fields:
        ident = spec["id"]
        value = data.get(ident)
        view = FieldView(
            id=ident,
            type=spec["type"],
            name=f"{prefix}.{ident}",
            label=_tr(spec["label"], language),
            help=_tr(spec.get("help"), language),
            required=bool(spec.get("required")),
            value=value,
            error=errors.get(ident, ""),
            max_length=spec.get("max_length") or spec.get("item_max_length"),
        )
        kind = spec["type"]
        if kind in ("single_choice", "multiple_choice"):
            chosen = value if isinstance(value, list) else [value]
            view.choices = [
                {
                    "value": c["value"],
                    "label": _tr(c["label"], language),
                    "checked": c["value"] in chosen,
                }
                for c in spec["choices"]
            ]
        elif kind == "scale":
            view.points = [
                {"value": n, "checked": value == n} for n in range(spec["min"], spec["max"] + 1)
            ]
            view.min_label, view.max_label = (
                _tr(spec["min_label"], language),
                _tr(spec["max_label"], language),
            )
        elif kind == "list":
            view.value = "\n".join(value or [])
        elif kind == "ranked_cards":
            order = value or []
            limit = spec.get("max_ranked", len(spec["cards"]))
            view.positions = list(range(1, limit + 1))
            view.choices = [
                {
                    "value": c["value"],
                    "label": _tr(c["label"], language),
                    "help": _tr(c.get("help"), language),
                    "position": order.index(c["value"]) + 1 if c["value"] in order else None,
                }
                for c in spec["cards"]
            ]
        elif kind == "repeating_rows":
            rows = value if isinstance(value, list) else []
            view.add_label, view.max_rows = _tr(spec["add_label"], language), spec["max_rows"]
            count = min(spec["max_rows"], len(rows) + EXTRA_ROWS)
            view.rows = [
                field_views(
                    spec["fields"],
                    rows[i] if i < len(rows) else {},
                    {},
                    language,
                    prefix=f"r.{ident}.{i}",
                )
                for i in range(count)
            ]
        views.append(view)
    return views


def parse_form(fields: list[dict[str, Any]], post: QueryDict, prefix: str = "f") -> dict[str, Any]:
    """Answers from a posted form. Empty fields are left out; invalid values are kept as typed
    so that validation can say what is wrong."""
    data: dict[str, Any] = {}
    for spec in fields:
        ident, kind = spec["id"], spec["type"]
        name = f"{prefix}.{ident}"
        if kind == "multiple_choice":
            values = post.getlist(name)
            if values:
                data[ident] = values
        elif kind == "list":
            items = [line.strip() for line in post.get(name, "").splitlines() if line.strip()]
            if items:
                data[ident] = items
        elif kind == "ranked_cards":
            placed = []
            for card in spec["cards"]:
                position = post.get(f"{name}.{card['value']}", "")
                if position.isdigit():
                    placed.append((int(position), card["value"]))
            if placed:
                data[ident] = [value for _pos, value in sorted(placed)]
        elif kind == "repeating_rows":
            rows = []
            for index in range(
                spec["max_rows"] + 5
            ):  # a few more than allowed, so validation can say so
                row = parse_form(spec["fields"], post, prefix=f"r.{ident}.{index}")
                if row:
                    rows.append(row)
            if rows:
                data[ident] = rows
        else:
            raw = post.get(name)
            if raw not in (None, ""):
                data[ident] = raw
    return data
