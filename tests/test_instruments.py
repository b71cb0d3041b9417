"""An instrument is given without a study: a patient in routine care, a counsellor answering
an implementation survey. Nobody here is a participant."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rarebridge.core.actor import Actor
from rarebridge.core.models import AuditEntry
from rarebridge.core.permissions import Role
from rarebridge.instruments.models import Response
from rarebridge.instruments.services import response_save, response_start, response_submit
from rarebridge.trials.models import Participant
from tests.factories import PatientFactory, RoleFactory, UserFactory

PHQ9 = {f"phq9-{n}": 1 for n in range(1, 9)} | {"phq9-9": 0, "phq9-10": 0}


def _answer(response: Response, answers: dict, by) -> Response:
    saved = response_save(response=response, answers=answers, base_revision=0, by=by)
    assert saved.status == "saved", saved.errors
    return response_submit(response=response, by=by).response


def test_a_patient_in_no_study_answers_the_phq9_and_gets_a_score(db):
    patient = PatientFactory(user__language="de")
    user = patient.user
    assert not Participant.objects.filter(patient=patient).exists()
    response = response_start(
        subject=user, instrument="phq9", organisation_id=patient.organisation_id, by=user
    )
    assert response.language == "de"
    response = _answer(response, PHQ9, Actor(user=user, ip="192.0.2.7"))
    assert response.subject == user and not response.on_behalf
    assert response.scores["total"]["value"] == 8
    assert response.scores["total"]["band"]
    assert response.algorithm and response.submitted_at is not None
    assert response.revisions.count() == 1
    assert "risk_item_positive" not in response.flags
    entry = AuditEntry.objects.get(action="instruments.response.submitted")
    assert entry.actor == user and entry.ip_address == "192.0.2.7"
    assert not hasattr(response, "assessment_link")


def test_a_risk_answer_is_flagged_for_the_caller_to_act_on(db):
    patient = PatientFactory()
    response = response_start(
        subject=patient.user,
        instrument="phq9",
        organisation_id=patient.organisation_id,
        by=patient.user,
    )
    response = _answer(response, PHQ9 | {"phq9-9": 2}, patient.user)
    assert "risk_item_positive" in response.flags


def test_a_counsellor_answers_an_implementation_survey(db):
    role = RoleFactory(role=Role.COUNSELLOR)
    counsellor = role.user
    response = response_start(
        subject=counsellor, instrument="aim", organisation_id=role.organisation_id, by=counsellor
    )
    response = _answer(response, {"aim-1": 4, "aim-2": 5, "aim-3": 4, "aim-4": 3}, counsellor)
    assert response.scores["mean"]["value"] == 4
    assert response.subject == counsellor and response.flags == []


def test_nobody_starts_a_questionnaire_in_someone_elses_name(db):
    patient = PatientFactory()
    with pytest.raises(PermissionDenied):
        response_start(
            subject=patient.user,
            instrument="phq9",
            organisation_id=patient.organisation_id,
            by=UserFactory(),
        )


def test_an_unknown_instrument_is_refused(db):
    patient = PatientFactory()
    with pytest.raises(ValidationError):
        response_start(
            subject=patient.user,
            instrument="nope",
            organisation_id=patient.organisation_id,
            by=patient.user,
        )


def test_a_submitted_response_is_not_scored_again(db):
    patient = PatientFactory()
    response = response_start(
        subject=patient.user,
        instrument="gad7",
        organisation_id=patient.organisation_id,
        by=patient.user,
    )
    response = _answer(response, {f"gad7-{n}": 0 for n in range(1, 8)}, patient.user)
    again = response_submit(response=response, by=patient.user)
    assert not again.newly
    assert response_save(
        response=response, answers={}, base_revision=1, by=patient.user
    ).status == ("conflict")
