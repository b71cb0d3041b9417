"""Human names for study codes in templates: ``{{ a.timepoint|timepoint }}``,
``{{ code|instrument }}``, ``{% arm study code %}``."""

from __future__ import annotations

from django import template

from rarebridge.trials.labels import arm_label, instrument_label, timepoint_label

register = template.Library()


@register.filter
def timepoint(code: str) -> str:
    return timepoint_label(code)


@register.filter
def instrument(code: str) -> str:
    return instrument_label(code)


@register.simple_tag
def arm(study, code: str) -> str:
    return arm_label(study, code)
