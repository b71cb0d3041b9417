"""Human names for the codes a study is built from (timepoints, arms, instruments).

Participants never see "T0", "control" or "phq9"; staff see the human name with the code.
The study file may name its arms per language; where it does not in the reader's language, a
known arm code falls back to the names here, translated like every other string.
"""

from __future__ import annotations

from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from rarebridge.instruments.content import questionnaire

TIMEPOINTS = {
    "T0": _("Baseline (T0)"),
    "T1": _("After the program period (T1)"),
    "T2": _("Follow-up (T2)"),
}
ARMS = {
    "intervention": pgettext_lazy("study arm", "Peer support program"),
    "control": pgettext_lazy("study arm", "Usual care"),
}
INSTRUMENTS = {
    "phq9": _("Depression questionnaire (PHQ-9)"),
    "gad7": _("Anxiety questionnaire (GAD-7)"),
}


def timepoint_label(code: str) -> str:
    label = TIMEPOINTS.get(code)
    if label is not None:
        return str(label)
    return str(_("Questionnaires (%(code)s)") % {"code": code})


def arm_label(study, code: str) -> str:
    """The study's own name for the arm in the reader's language, else ours, else English."""
    language = (get_language() or "en").split("-")[0]
    try:
        titles = study.arm(code).get("title", {})
    except StopIteration:
        titles = {}
    if titles.get(language):
        return titles[language]
    if code in ARMS:
        return str(ARMS[code])
    return titles.get("en") or code


def instrument_label(code: str) -> str:
    if code in INSTRUMENTS:
        return str(INSTRUMENTS[code])
    try:
        return questionnaire(code, get_language()).title
    except (OSError, ValueError, KeyError):  # not shipped here: its code is all we have
        return code
