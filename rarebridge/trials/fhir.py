"""Study answers as FHIR R4 QuestionnaireResponse resources, validated by ``fhir.resources``.

Participants are named by their research code only: an export carries no names. The
conversion itself is the instruments app's; a study adds the timepoint.
"""

from __future__ import annotations

from fhir.resources.questionnaireresponse import QuestionnaireResponse

from rarebridge.instruments import fhir as instruments_fhir
from rarebridge.instruments.models import Response

CODE_SYSTEM = "https://rarebridge.example/fhir/participant-code"
TIMEPOINT = "https://rarebridge.example/fhir/StructureDefinition/timepoint"


def response_resource(response: Response) -> QuestionnaireResponse:
    assessment = response.assessment_link.assessment
    return instruments_fhir.response_resource(
        response,
        subject={
            "identifier": {"system": CODE_SYSTEM, "value": assessment.participant.patient.code}
        },
        extensions=[{"url": TIMEPOINT, "valueCode": assessment.timepoint}],
    )


def responses_bundle(responses) -> str:
    """A collection Bundle of the given study responses, as JSON."""
    return instruments_fhir.resources_bundle(response_resource(r) for r in responses)
