"""Study answers as FHIR R4 QuestionnaireResponse resources, validated by ``fhir.resources``.

Participants are named by their research code only: an export carries no names.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.bundle import Bundle
from fhir.resources.questionnaireresponse import QuestionnaireResponse

from rarebridge.trials.content import questionnaire
from rarebridge.trials.models import Response

CODE_SYSTEM = "https://rarebridge.example/fhir/participant-code"


def response_resource(response: Response) -> QuestionnaireResponse:
    form = questionnaire(response.instrument, "en")
    participant = response.assessment.participant
    items = []
    for item in form.questions:
        value = response.answers.get(item.link_id)
        option = next((o for o in item.options if o.value == value), None)
        entry: dict[str, Any] = {"linkId": item.link_id, "text": item.text}
        if option is not None:
            entry["answer"] = [
                {
                    "valueCoding": {
                        "system": option.system,
                        "code": option.code,
                        "display": option.label,
                    }
                }
            ]
        items.append(entry)
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": f"response-{response.pk}",
        "questionnaire": f"{form.url}|{form.version}" if form.url else response.instrument,
        "status": "completed" if response.submitted_at else "in-progress",
        "subject": {"identifier": {"system": CODE_SYSTEM, "value": participant.patient.code}},
        "authored": (response.submitted_at or response.updated_at).isoformat(),
        "item": items,
        "extension": [
            {
                "url": "https://rarebridge.example/fhir/StructureDefinition/timepoint",
                "valueCode": response.assessment.timepoint,
            },
            {
                "url": "https://rarebridge.example/fhir/StructureDefinition/entered-on-behalf",
                "valueBoolean": response.on_behalf,
            },
        ],
    }
    return QuestionnaireResponse.model_validate(data)


def responses_bundle(responses) -> str:
    """A collection Bundle of the given responses, as JSON."""
    bundle = Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": response_resource(r).model_dump()} for r in responses],
        }
    )
    return bundle.model_dump_json()
