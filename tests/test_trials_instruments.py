"""Instruments from elsewhere: a licensee's wording, and an external SDC PHQ-9."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from rarebridge.core.models import AuditEntry
from rarebridge.engines.scoring import get_scorer
from rarebridge.instruments.content import questionnaire
from rarebridge.instruments.external import (
    ExternalError,
    answers_from_external_response,
    map_external,
)
from rarebridge.instruments.models import ExternalQuestionnaire, InstrumentText
from rarebridge.instruments.services import external_questionnaire_import, instrument_text_load

INSTRUMENTS = Path(settings.BASE_DIR) / "content" / "instruments"
LOINC_ANSWER = {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"}


def _wording(**extra):
    data = {
        "instrument": "sf12v1",
        "language": "de",
        "source": "SF-12 v1 German, test licence 42",
        "items": {
            "GH1": "Wie würden Sie Ihren Gesundheitszustand im Allgemeinen beschreiben? (Test)"
        },
        "answers": {},
    }
    data.update(extra)
    return data


def test_it_loads_a_licensees_wording_over_the_placeholders_once(db):
    before = questionnaire("sf12v1", "de")
    assert next(i for i in before.items if i.link_id == "GH1").text.startswith("[")
    _row, created, left = instrument_text_load(instrument="sf12v1", language="de", data=_wording())
    assert created and "GH1" not in left and "PF02" in left  # the rest still shows placeholders
    after = questionnaire("sf12v1", "de")
    assert next(i for i in after.items if i.link_id == "GH1").text.endswith("(Test)")
    _row, created_again, _left = instrument_text_load(
        instrument="sf12v1", language="de", data=_wording()
    )
    assert not created_again and InstrumentText.objects.count() == 1
    assert AuditEntry.objects.filter(action="trials.instrument_text.loaded").count() == 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"items": {"XX9": "text"}}, "not in the questionnaire"),
        ({"items": {"GH1": "[SF-12 item GH1 — placeholder]"}}, "placeholder"),
        ({"source": ""}, "source"),
        ({"language": "fr"}, "language"),
    ],
)
def test_it_refuses_a_wrong_wording_file_whole(db, change, reason):
    with pytest.raises(ExternalError, match=reason):
        instrument_text_load(instrument="sf12v1", language="de", data=_wording(**change))
    assert not InstrumentText.objects.exists()


def test_it_loads_wording_from_the_command_and_refuses_bad_files(db, tmp_path):
    good = tmp_path / "de.json"
    good.write_text(json.dumps(_wording()), encoding="utf-8")
    call_command("load_instrument_text", "sf12v1", "de", str(good))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_wording(items={"nope": "x"})), encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("load_instrument_text", "sf12v1", "de", str(bad))


def test_it_maps_an_external_sdc_phq9_and_scores_its_responses(db):
    external = json.loads((INSTRUMENTS / "sdc-phq9-example.json").read_text())
    row = external_questionnaire_import(data=external, instrument="phq9")
    assert (
        row.link_ids["/44260-8"] == "phq9-9" and "/44261-6" not in row.link_ids
    )  # the total is left out
    response = {
        "resourceType": "QuestionnaireResponse",
        "item": [
            {
                "linkId": "/44249-1",
                "item": [
                    {
                        "linkId": ext,
                        "answer": [
                            {
                                "valueCoding": {
                                    "system": "http://loinc.org",
                                    "code": LOINC_ANSWER[value],
                                }
                            }
                        ],
                    }
                    for ext, value in (
                        ("/44250-9", 2),
                        ("/44255-8", 1),
                        ("/44259-0", 0),
                        ("/44254-1", 3),
                        ("/44251-7", 1),
                        ("/44258-2", 0),
                        ("/44252-5", 2),
                        ("/44253-3", 1),
                        ("/44260-8", 1),
                    )
                ],
            }
        ],
    }
    mapping = map_external(
        external=external,
        ours=json.loads((INSTRUMENTS / "phq9" / "questionnaire.json").read_text()),
        instrument="phq9",
    )
    answers = answers_from_external_response(mapping=mapping, response=response)
    result = get_scorer("phq9").score(answers)
    assert result.scores["total"].value == 11
    assert "risk_item_positive" in result.flags
    assert ExternalQuestionnaire.objects.count() == 1


def test_it_refuses_an_external_questionnaire_it_cannot_match(db):
    external = {
        "resourceType": "Questionnaire",
        "url": "urn:x",
        "item": [
            {
                "linkId": "q1",
                "type": "choice",
                "code": [{"system": "http://loinc.org", "code": "00000-0"}],
                "answerOption": [],
            }
        ],
    }
    with pytest.raises(ExternalError, match="no item of phq9 has its code"):
        external_questionnaire_import(data=external, instrument="phq9")
