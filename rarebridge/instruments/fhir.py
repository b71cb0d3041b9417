"""Responses as FHIR R4 QuestionnaireResponse resources, validated by ``fhir.resources``.

The caller names the subject (a study names participants by research code only, so an
export carries no names) and adds its own extensions (a study's timepoint).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fhir.resources.bundle import Bundle
from fhir.resources.questionnaireresponse import QuestionnaireResponse

from rarebridge.instruments.content import questionnaire
from rarebridge.instruments.models import Response

ON_BEHALF = "https://rarebridge.example/fhir/StructureDefinition/entered-on-behalf"
# A submitted response with unanswered items stays ``completed`` (the person was asked twice
# and sent it), and each unanswered item carries the FHIR data-absent-reason extension with
# ``asked-declined``, as the SDC advises: the export says which items are missing, not only
# that something is. A response never sent in is ``in-progress``.
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def response_resource(
    response: Response,
    *,
    subject: dict[str, Any],
    extensions: Iterable[dict[str, Any]] = (),
) -> QuestionnaireResponse:
    """One response as a QuestionnaireResponse; ``extensions`` come before entered-on-behalf."""
    form = questionnaire(response.instrument, "en")
    items = []
    for item in form.questions:
        value = response.answers.get(item.link_id)
        option = next((o for o in item.options if o.value == value), None)
        entry: dict[str, Any] = {"linkId": item.link_id, "text": item.text}
        if option is None and response.submitted_at is not None:
            entry["extension"] = [{"url": DATA_ABSENT_REASON, "valueCode": "asked-declined"}]
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
        "subject": subject,
        "authored": (response.submitted_at or response.updated_at).isoformat(),
        "item": items,
        "extension": [*extensions, {"url": ON_BEHALF, "valueBoolean": response.on_behalf}],
    }
    return QuestionnaireResponse.model_validate(data)


def resources_bundle(resources: Iterable[QuestionnaireResponse]) -> str:
    """A collection Bundle of the given resources, as JSON."""
    bundle = Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": resource.model_dump()} for resource in resources],
        }
    )
    return bundle.model_dump_json()
