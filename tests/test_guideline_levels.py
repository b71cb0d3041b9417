"""The weekly counsellor guidelines name the concern levels exactly as the concern form and the
alert pages do, in every language, and "raise a concern" as the button says it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from rarebridge.portals.staff.forms.safety import ConcernForm
from rarebridge.safety.models import Level

GUIDELINES = sorted(Path(settings.BASE_DIR, "content", "programs").glob("*/*/guidelines/*/*.md"))
BOLD = re.compile(r"\*\*(.+?)\*\*")
# The three levels the guidelines once named, which the form never offered.
RETIRED = {
    "en": ["Urgent", "Same day", "For supervision"],
    "de": ["Dringend", "Am selben Tag", "Für die Supervision"],
    "pl": ["Pilne", "Tego samego dnia", "Do superwizji"],
    "nl": ["Urgent", "Dezelfde dag", "Voor supervisie"],
    "hu": ["Sürgős", "Még aznap", "Szupervízióra"],
    "fr": ["Urgent", "Dans la journée", "Pour la supervision"],
}


def _labels(language: str) -> tuple[list[str], str]:
    with translation.override(language):
        form_labels = [str(label) for _value, label in ConcernForm().fields["level"].choices]
        model_labels = [str(label) for label in Level.labels]
        button = translation.gettext("Raise a concern")
    assert form_labels == model_labels
    return form_labels, button


def test_it_finds_a_guideline_in_every_language():
    languages = {path.parent.name for path in GUIDELINES}
    assert languages == {code for code, _name in settings.LANGUAGES}


@pytest.mark.parametrize("path", GUIDELINES, ids=lambda p: "/".join(p.parts[-4:]))
def test_it_names_the_forms_concern_levels_and_button_in_each_guideline(path):
    language = path.parent.name
    labels, button = _labels(language)
    lines = path.read_text(encoding="utf-8").splitlines()
    steps = [i for i, line in enumerate(lines) if f"**{button}**" in line and line[:1].isdigit()]
    assert len(steps) == 1, f"{path}: the escalation step names the button “{button}” once"
    named = []
    for line in lines[steps[0] + 1 :]:
        if not line.startswith("   - **"):
            break
        named.append(BOLD.search(line).group(1))
    assert sorted(named) == sorted(labels), f"{path}: {named} are not the form's {labels}"
    assert named == list(reversed(labels)), f"{path}: levels from the most urgent down"
    text = "\n".join(lines)
    for bold in BOLD.findall(text):
        assert bold not in RETIRED[language], f"{path}: retired level “{bold}”"
    for old in RETIRED[language]:
        assert f"“{old}”" not in text and f"„{old}”" not in text and f"« {old} »" not in text
