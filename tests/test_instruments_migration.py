"""Responses move from trials to instruments with their data (trials 0003-0005, instruments 0001).

A database with a study's answers, made the old way with the historical models, is migrated
forward; each response then belongs to the participant's user and is linked from its
assessment. And back again, while nothing was given outside a study.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("trials", "0002_externalquestionnaire_instrumenttext"), ("instruments", None)]
AFTER = [("trials", "0005_responses_to_instruments"), ("instruments", "0001_initial")]
WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _old_world(apps) -> dict:
    """A study, a participant at T0 and two answered questionnaires, as before the move."""
    Country = apps.get_model("network", "Country")
    Organisation = apps.get_model("network", "Organisation")
    Site = apps.get_model("network", "Site")
    User = apps.get_model("accounts", "User")
    PatientProfile = apps.get_model("accounts", "PatientProfile")
    Study = apps.get_model("trials", "Study")
    Participant = apps.get_model("trials", "Participant")
    Assessment = apps.get_model("trials", "Assessment")
    Response = apps.get_model("trials", "Response")
    ResponseRevision = apps.get_model("trials", "ResponseRevision")

    country = Country.objects.create(code="DE", names={"en": "Germany"}, emergency_number="112")
    org = Organisation.objects.create(name="Org", slug="org", kind="provider")
    site = Site.objects.create(
        organisation=org, country=country, name="Berlin", city="Berlin", time_zone="Europe/Berlin"
    )
    user = User.objects.create(email="pia@example.org", full_name="Pia Patient")
    patient = PatientProfile.objects.create(
        user=user, organisation=org, site=site, country=country, code="P-0001"
    )
    study = Study.objects.create(organisation=org, slug="s", checksum="x")
    participant = Participant.objects.create(
        organisation=org, study=study, site=site, patient=patient, diagnosis="d", language="de"
    )
    assessment = Assessment.objects.create(
        organisation=org,
        participant=participant,
        timepoint="T0",
        instruments=["phq9", "gad7"],
        opens_at=WHEN,
    )
    phq9 = Response.objects.create(
        organisation=org,
        assessment=assessment,
        instrument="phq9",
        answers={"phq9-1": 2, "phq9-9": 0},
        revision=1,
        submitted_at=WHEN,
        scores={"total": {"value": 2}},
        algorithm="phq9-v1",
        flags=[],
    )
    ResponseRevision.objects.create(
        response=phq9, number=1, answers=phq9.answers, saved_at=WHEN, saved_by=user
    )
    gad7 = Response.objects.create(
        organisation=org, assessment=assessment, instrument="gad7", answers={"gad7-1": 1}
    )
    return {
        "user": user.pk,
        "assessment": assessment.pk,
        "phq9": phq9.pk,
        "gad7": gad7.pk,
        "updated": {phq9.pk: phq9.updated_at, gad7.pk: gad7.updated_at},
    }


@pytest.mark.django_db(transaction=True)
def test_it_moves_a_studys_responses_to_instruments_with_their_answers_and_back():
    try:
        old = _old_world(_migrate(BEFORE))

        apps = _migrate(AFTER)
        Response = apps.get_model("instruments", "Response")
        Assessment = apps.get_model("trials", "Assessment")
        AssessmentResponse = apps.get_model("trials", "AssessmentResponse")
        assert Response.objects.count() == 2
        phq9 = Response.objects.get(pk=old["phq9"])
        assert phq9.subject_id == old["user"] and phq9.language == "de"
        assert phq9.answers == {"phq9-1": 2, "phq9-9": 0} and phq9.submitted_at == WHEN
        assert phq9.scores == {"total": {"value": 2}} and phq9.algorithm == "phq9-v1"
        assert phq9.revisions.get().answers == phq9.answers
        assert phq9.updated_at == old["updated"][phq9.pk]  # nothing pretends to be re-saved
        assessment = Assessment.objects.get(pk=old["assessment"])
        assert set(assessment.responses.values_list("pk", flat=True)) == {old["phq9"], old["gad7"]}
        assert dict(AssessmentResponse.objects.values_list("response_id", "instrument")) == {
            old["phq9"]: "phq9",
            old["gad7"]: "gad7",
        }
        assert Response.objects.filter(assessment__participant__patient__code="P-0001").count() == 2

        apps = _migrate(BEFORE)
        Response = apps.get_model("trials", "Response")
        assert set(Response.objects.values_list("pk", "assessment_id")) == {
            (old["phq9"], old["assessment"]),
            (old["gad7"], old["assessment"]),
        }
    finally:
        _latest()
