"""External SDC questionnaires in the two shapes met in practice, written for these tests:
uncoded items with answers in a contained ValueSet (HL7 SDC style, matched with a mapping file)
and LOINC codes without ``system`` (NLM export style). Refusals are one line, never a
traceback; the response mapper never drops an answer silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rarebridge.engines.scoring import get_scorer
from rarebridge.instruments.content import questionnaire_json
from rarebridge.instruments.external import (
    ExternalError,
    answers_from_external_response,
    map_external,
)
from rarebridge.instruments.models import ExternalQuestionnaire

DATA = Path(__file__).parent / "data" / "fhir"
PHQ9 = DATA / "phq9-sdc-contained.json"
PHQ9_MAP = DATA / "phq9-sdc-contained.map.json"
GAD7 = DATA / "gad7-nlm-export.json"
GAD7_MAP = DATA / "gad7-nlm-export.map.json"
LOINC = "http://loinc.org"
FREQUENCY = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


def _load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _import(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_questionnaire", *map(str, args), stdout=out)
    return out.getvalue()


def _refusal(*args) -> str:
    with pytest.raises(CommandError) as caught:
        _import(*args)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_it_imports_the_sdc_shape_with_contained_answers_and_a_mapping_file(db):
    out = _import(PHQ9, "--as", "phq9", "--map", PHQ9_MAP)
    assert "10 items mapped" in out
    row = ExternalQuestionnaire.objects.get()
    assert row.link_ids["q9"] == "phq9-9"
    assert row.answers["q1"][f"{LOINC}|LA6571-9"] == 3
    assert row.answers["q10"][f"{LOINC}|LA6575-0"] == 2


def test_it_refuses_uncoded_items_without_a_mapping_and_names_them(db):
    message = _refusal(PHQ9, "--as", "phq9")
    assert "q1: no item of phq9 matches" in message and "--map" in message
    assert not ExternalQuestionnaire.objects.exists()


def test_it_imports_the_nlm_shape_with_codes_without_system(db):
    out = _import(GAD7, "--as", "gad7", "--map", GAD7_MAP)
    assert "8 items mapped" in out
    row = ExternalQuestionnaire.objects.get()
    assert row.link_ids["/69725-0"] == "gad7-1"
    assert row.answers["/69725-0"][f"{LOINC}|LA6570-1"] == 2


def test_it_scores_a_response_in_the_external_shape(db):
    mapping = map_external(
        external=_load(PHQ9),
        ours=questionnaire_json("phq9"),
        instrument="phq9",
        link_map=_load(PHQ9_MAP),
    )
    response = {
        "resourceType": "QuestionnaireResponse",
        "item": [
            {
                "linkId": "g1",
                "item": [
                    {
                        "linkId": f"q{n}",
                        "answer": [{"valueCoding": {"system": LOINC, "code": FREQUENCY[n % 4]}}],
                    }
                    for n in range(1, 10)
                ]
                + [{"linkId": "score", "answer": [{"valueInteger": 13}]}],
            }
        ],
    }
    answers = answers_from_external_response(mapping=mapping, response=response)
    assert answers["phq9-1"] == 1 and answers["phq9-4"] == 0
    result = get_scorer("phq9").score(answers)
    assert result.scores["total"].value == sum(n % 4 for n in range(1, 10))


def test_it_never_drops_an_unmapped_answer(db):
    mapping = map_external(
        external=_load(GAD7),
        ours=questionnaire_json("gad7"),
        instrument="gad7",
        link_map=_load(GAD7_MAP),
    )
    unknown_item = {"item": [{"linkId": "/99999-9", "answer": [{"valueCoding": {"code": "x"}}]}]}
    with pytest.raises(ExternalError, match="/99999-9"):
        answers_from_external_response(mapping=mapping, response=unknown_item)
    unknown_answer = {
        "item": [
            {
                "linkId": "/69725-0",
                "answer": [{"valueCoding": {"system": LOINC, "code": "LA0000-0"}}],
            }
        ]
    }
    with pytest.raises(ExternalError, match="LA0000-0"):
        answers_from_external_response(mapping=mapping, response=unknown_answer)
    # An answer coded without its system still finds its one counterpart.
    bare = {"item": [{"linkId": "/69725-0", "answer": [{"valueCoding": {"code": "LA6569-3"}}]}]}
    assert answers_from_external_response(mapping=mapping, response=bare) == {"gad7-1": 1}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("array.json", "JSON array"),
        ("missing-linkid.json", "has no linkId"),
        ("not-utf8.json", "not UTF-8"),
    ],
)
def test_it_refuses_broken_files_in_one_line(db, name, reason):
    assert reason in _refusal(DATA / name, "--as", "gad7")
    assert not ExternalQuestionnaire.objects.exists()


def test_it_refuses_an_unknown_instrument_and_a_wrong_resource_type(db, tmp_path):
    assert "Unknown instrument 'phq99'" in _refusal(GAD7, "--as", "phq99")
    patient = tmp_path / "patient.json"
    patient.write_text(json.dumps({"resourceType": "Patient", "id": "p"}), encoding="utf-8")
    assert "expected 'Questionnaire'" in _refusal(patient, "--as", "gad7")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert "not valid JSON" in _refusal(broken, "--as", "gad7")
    assert "cannot be read" in _refusal(tmp_path / "absent.json", "--as", "gad7")


def test_it_refuses_a_mapping_to_an_item_we_lack(db, tmp_path):
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"q1": "phq9-99"}), encoding="utf-8")
    assert "phq9-99" in _refusal(PHQ9, "--as", "phq9", "--map", mapping)
