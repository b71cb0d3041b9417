"""Answers are kept and checked: windows, missing items, every shipped instrument end to end,
study scoring settings, draft wording, staff entry by phone and item 9 reaching a person."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from fhir.resources.questionnaireresponse import QuestionnaireResponse

from rarebridge.instruments.content import CONTENT_DIR, questionnaire
from rarebridge.instruments.fhir import DATA_ABSENT_REASON
from rarebridge.instruments.models import Response
from rarebridge.instruments.services import response_save as plain_save
from rarebridge.instruments.services import response_start
from rarebridge.instruments.services import response_submit as plain_submit
from rarebridge.safety.models import Concern
from rarebridge.safety.services import unsubmitted_risk_alerts_due
from rarebridge.trials.content import StudyFileError, read_study
from rarebridge.trials.demo import CALM
from rarebridge.trials.fhir import response_resource
from rarebridge.trials.selectors import completeness
from rarebridge.trials.services import (
    participant_randomise,
    randomisation_blockers,
    response_for,
    response_save,
    response_submit,
)
from tests.engines.test_scoring_engine import HEIQ_KEY, TEXQ_KEY
from tests.factories import CrisisResourceFactory, PatientFactory
from tests.trials_helpers import (
    CALM_GAD7,
    CALM_PHQ9,
    STUDY_FILE,
    answer_all,
    consent,
    load_demo_study,
    ready_to_randomise,
    screen_in,
)

SHIPPED = sorted(p.parent.name for p in (CONTENT_DIR / "instruments").glob("*/questionnaire.json"))

LICENSED_KEYS = {"heiq": HEIQ_KEY, "texq": TEXQ_KEY}


@pytest.fixture
def study(cast):
    return load_demo_study(cast)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _randomised(study, cast, email="t1@example.org"):
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email=email)
    participant_randomise(participant=participant, by=cast.coordinator)
    participant.refresh_from_db()
    return participant


def _full(code: str) -> dict[str, str]:
    """Every question answered with its first scale value."""
    form = questionnaire(code, "en")
    return {item.link_id: str(item.options[0].value) for item in form.questions}


# --- windows -------------------------------------------------------------------------------


def test_it_offers_t1_only_inside_its_window(study, cast):
    participant = _randomised(study, cast)
    client = _client(participant.patient.user)
    t1 = participant.assessments.get(timepoint="T1")
    link = reverse("trials_patient:answer", args=["T1", "phq9"])
    home = client.get(reverse("trials_patient:home")).content.decode()
    assert link not in home and "opens on" in home
    early = client.get(link)
    assert early.status_code == 200 and "not open yet" in early.content.decode()
    with time_machine.travel(t1.opens_at + timedelta(hours=1), tick=False):
        client.force_login(participant.patient.user)
        assert link in client.get(reverse("trials_patient:home")).content.decode()
        assert b"<fieldset" in client.get(link).content


def test_it_keeps_every_answer_sent_after_the_window_closed(study, cast):
    participant = _randomised(study, cast, email="stale@example.org")
    client = _client(participant.patient.user)
    t1 = participant.assessments.get(timepoint="T1")
    link = reverse("trials_patient:answer", args=["T1", "phq9"])
    with time_machine.travel(t1.closes_at - timedelta(hours=1), tick=False):
        client.force_login(participant.patient.user)
        assert client.get(link).status_code == 200
    answers = dict.fromkeys(CALM_PHQ9, "1") | {"phq9-9": "0"}
    with time_machine.travel(t1.closes_at + timedelta(minutes=5), tick=False):
        page = client.post(link, {"base_revision": "0", **answers})
    assert page.status_code == 409
    html = page.content.decode()
    assert "not open" in html and "have not been lost" in html
    response = Response.objects.get(assessment=t1, instrument="phq9")
    assert response.submitted_at is None
    assert response.answers == {k: int(v) for k, v in answers.items()}
    assert response.revisions.last().answers == response.answers
    # The form was rendered with every answer still chosen.
    assert 'value="1" checked' in html


def test_it_says_in_the_persons_language_that_the_window_closed(study, cast):
    participant = _randomised(study, cast, email="de@example.org")
    user = participant.patient.user
    user.language = "de"
    user.save(update_fields=["language"])
    client = _client(user)
    t1 = participant.assessments.get(timepoint="T1")
    with time_machine.travel(t1.closes_at + timedelta(minutes=5), tick=False):
        client.force_login(user)
        page = client.post(
            reverse("trials_patient:answer", args=["T1", "phq9"]),
            {"base_revision": "0", "phq9-1": "2"},
            HTTP_ACCEPT_LANGUAGE="de",
        )
    assert page.status_code == 409
    assert "nicht verloren" in page.content.decode()


# --- missing items -------------------------------------------------------------------------


def test_it_lists_missing_items_asks_once_more_and_stores_the_response_as_incomplete(study, cast):
    participant = screen_in(study, cast.site, email="gap@example.org")
    consent(participant)
    client = _client(participant.patient.user)
    url = reverse("trials_patient:answer", args=["T0", "phq9"])
    client.post(url, {"base_revision": "0", "phq9-1": "1", "phq9-2": "1", "phq9-3": "0"})
    review_url = reverse("trials_patient:review", args=["T0", "phq9"])
    review = client.get(review_url).content.decode()
    assert 'id="missing-items"' in review and 'id="risk-missing"' in review
    assert "#wrap-phq9-9" in review
    again = client.post(review_url, {"confirm_missing": "0"})
    assert again.status_code == 200 and "Send without the missing answers" in again.content.decode()
    response = Response.objects.get(instrument="phq9")
    assert response.submitted_at is None
    client.post(review_url, {"confirm_missing": "1"})
    response.refresh_from_db()
    assert response.submitted_at is not None and "items_missing" in response.flags
    assert response.scores["total"]["value"] is None  # max_missing 0: no total
    resource = response_resource(response).model_dump()
    QuestionnaireResponse.model_validate(resource)
    assert resource["status"] == "completed"
    nine = next(i for i in resource["item"] if i["linkId"] == "phq9-9")
    assert nine["extension"][0]["url"] == DATA_ABSENT_REASON and "answer" not in nine
    row = next(
        r
        for r in completeness(user=cast.trial_manager, study=study)
        if r["timepoint"] == "T0" and r["instrument"] == "phq9"
    )
    assert row["submitted"] == 0 and row["incomplete"] == 1


def test_it_randomises_only_with_a_scoreable_primary_outcome_at_t0(study, cast):
    participant = screen_in(study, cast.site, email="sf@example.org")
    consent(participant, cast.coordinator)
    t0 = participant.assessments.get(timepoint="T0")
    user = participant.patient.user
    for code, answers in (
        ("phq9", CALM_PHQ9),
        ("gad7", CALM_GAD7),
        ("sf12v1", {k: v for k, v in CALM["sf12v1"].items() if k != "MH4"}),
    ):
        response = response_for(assessment=t0, instrument=code)
        response_save(response=response, answers=answers, base_revision=0, by=user)
        response_submit(response=response, by=user)
    t0.refresh_from_db()
    assert t0.completed_at is not None  # sent in …
    codes = [code for code, _message in randomisation_blockers(participant=participant)]
    assert codes == ["primary_not_scoreable"]  # … but the SF-12 MCS cannot be scored


def test_the_demo_study_gives_the_sf12_at_every_timepoint(study):
    assert all("sf12v1" in t["instruments"] for t in study.definition["timepoints"])
    assert study.definition["primary_outcome"] == {"instrument": "sf12v1", "score": "mcs"}


# --- every shipped instrument, end to end --------------------------------------------------


@pytest.mark.parametrize("code", SHIPPED)
def test_every_shipped_instrument_renders_saves_scores_and_exports(study, cast, as_user, code):
    participant = screen_in(study, cast.site, email=f"{code}@example.org")
    consent(participant, cast.coordinator)
    t0 = participant.assessments.get(timepoint="T0")
    t0.instruments = [code]
    t0.save(update_fields=["instruments"])
    if code in LICENSED_KEYS:  # scored only with the licensee's scale key, set by the study
        study.definition["scoring"]["instrument_options"][code] = {
            "scale_items": LICENSED_KEYS[code]
        }
        study.save(update_fields=["definition"])
    client = _client(participant.patient.user)
    url = reverse("trials_patient:answer", args=["T0", code])
    page = client.get(url)
    assert page.status_code == 200 and b"<fieldset" in page.content
    staff = as_user(cast.coordinator).get(
        reverse("trials_staff:data_entry", args=[study.slug, participant.pk, "T0", code])
    )
    assert staff.status_code == 200
    answers = _full(code)
    assert client.post(url, {"base_revision": "0", **answers}).status_code == 302
    client.post(reverse("trials_patient:review", args=["T0", code]))
    response = Response.objects.get(instrument=code)
    assert response.submitted_at is not None and "items_missing" not in response.flags
    assert response.scores and any(s["value"] is not None for s in response.scores.values())
    resource = response_resource(response)
    data = resource.model_dump()
    assert data["status"] == "completed"
    assert all(item.get("answer") for item in data["item"])
    QuestionnaireResponse.model_validate(data)


# --- PHQ-15 "does not apply" and the study's scoring settings ------------------------------


def _phq15_with_item4_not_applicable(study, cast, email):
    participant = screen_in(study, cast.site, email=email)
    consent(participant, cast.coordinator)
    t0 = participant.assessments.get(timepoint="T0")
    t0.instruments = ["phq15"]
    t0.save(update_fields=["instruments"])
    client = _client(participant.patient.user)
    url = reverse("trials_patient:answer", args=["T0", "phq15"])
    page = client.get(url).content.decode()
    assert 'value="not-applicable"' in page
    answers = {f"phq15-{n}": "1" for n in range(1, 16)} | {"phq15-4": "not-applicable"}
    assert client.post(url, {"base_revision": "0", **answers}).status_code == 302
    review = client.get(reverse("trials_patient:review", args=["T0", "phq15"])).content.decode()
    assert 'id="missing-items"' not in review and "Does not apply" in review
    client.post(reverse("trials_patient:review", args=["T0", "phq15"]))
    return Response.objects.get(instrument="phq15", subject=participant.patient.user)


def test_phq15_does_not_apply_reaches_the_scorer_with_the_studys_setting(study, cast):
    # The demo study says "prorate" (not the engine's default "sum_14"): 14 x 15 / 14 = 15.
    assert study.definition["scoring"]["phq15_item4_not_applicable"] == "prorate"
    response = _phq15_with_item4_not_applicable(study, cast, "p15@example.org")
    assert response.answers["phq15-4"] == "not-applicable"
    assert response.scoring_options["item4_not_applicable"] == "prorate"
    assert response.scores["total"]["value"] == 15
    item4 = next(
        i for i in response_resource(response).model_dump()["item"] if i["linkId"] == "phq15-4"
    )
    assert item4["answer"][0]["valueCoding"]["code"] == "not-applicable"


def test_a_study_with_non_default_scoring_settings_gets_them(study, cast):
    study.definition["scoring"]["phq15_item4_not_applicable"] = "sum_14"
    study.definition["scoring"]["instrument_options"]["phq9"] = {"max_missing": 1}
    study.save(update_fields=["definition"])
    response = _phq15_with_item4_not_applicable(study, cast, "s14@example.org")
    assert response.scores["total"]["value"] == 14
    participant = screen_in(study, cast.site, email="mm@example.org")
    consent(participant, cast.coordinator)
    answers = {k: v for k, v in CALM_PHQ9.items() if k != "phq9-3"}
    results = answer_all(participant, "T0", phq9=answers)
    phq9 = results[0].response
    assert phq9.scoring_options["max_missing"] == 1
    assert phq9.scores["total"]["value"] is not None and "items_missing" in phq9.flags


# --- draft wording -------------------------------------------------------------------------


def test_the_developer_note_is_never_shown_to_participants(study, cast, as_user):
    participant = screen_in(study, cast.site, email="note@example.org")
    consent(participant, cast.coordinator)
    participant.language = "de"
    participant.save(update_fields=["language"])
    page = _client(participant.patient.user).get(
        reverse("trials_patient:answer", args=["T0", "phq9"])
    )
    html = page.content.decode()
    assert "Pfizer" in html and "official versions before use" not in html
    staff = as_user(cast.coordinator).get(
        reverse("trials_staff:data_entry", args=[study.slug, participant.pk, "T0", "phq9"])
    )
    assert 'id="wording-note"' in staff.content.decode()


# --- staff entry by phone ------------------------------------------------------------------


def test_staff_entry_keeps_answers_lists_missing_ones_and_shows_the_risk_box(study, cast, as_user):
    CrisisResourceFactory(country=cast.site.country, name="Telefonseelsorge")
    participant = screen_in(study, cast.site, email="phone@example.org")
    consent(participant, cast.coordinator)
    client = as_user(cast.coordinator)
    url = reverse("trials_staff:data_entry", args=[study.slug, participant.pk, "T0", "phq9"])
    invalid = client.post(url, {"phq9-1": "2", "phq9-2": "7"})
    assert invalid.status_code == 422
    assert 'id="phq9-1-2" value="2" checked' in invalid.content.decode()
    partial = client.post(url, {"phq9-1": "2", "phq9-9": "1"})
    assert partial.status_code == 422 and 'id="missing-items"' in partial.content.decode()
    response = Response.objects.get(instrument="phq9")
    assert response.submitted_at is None and response.answers == {"phq9-1": 2, "phq9-9": 1}
    sent = client.post(url, {**dict.fromkeys(CALM_PHQ9, "0"), "phq9-9": "1"})
    html = sent.content.decode()
    assert sent.status_code == 200 and 'id="risk-alert"' in html
    assert "Stay on the line" in html and "Telefonseelsorge" in html
    assert Concern.objects.filter(patient=participant.patient, level="high").count() == 1


# --- item 9 always reaches a person --------------------------------------------------------


def test_a_study_file_cannot_switch_the_item_9_alert_off(tmp_path):
    data = json.loads(STUDY_FILE.read_text(encoding="utf-8"))
    data["safety"]["phq9_item9_positive"] = False
    data["consent"]["texts"] = {
        site: {lang: str(Path(CONTENT_DIR) / rel) for lang, rel in langs.items()}
        for site, langs in data["consent"]["texts"].items()
    }
    path = tmp_path / "study.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StudyFileError) as error:
        read_study(path)
    assert any("phq9_item9_positive" in p for p in error.value.problems)


def test_a_risk_answer_in_routine_care_raises_a_concern(db):
    patient = PatientFactory()
    user = patient.user
    response = response_start(
        subject=user, instrument="phq9", organisation_id=patient.organisation_id, by=user
    )
    answers = dict.fromkeys(CALM_PHQ9, 0) | {"phq9-9": 2}
    plain_save(response=response, answers=answers, base_revision=0, by=user)
    plain_submit(response=response, by=user)
    concern = Concern.objects.get(patient=patient)
    assert concern.level == "high" and concern.source == "questionnaire"
    response.refresh_from_db()
    assert response.risk_alerted_at is not None


def test_an_unsubmitted_risk_answer_alerts_after_the_grace_period_once(db, settings):
    settings.SAFETY_UNSUBMITTED_RISK_GRACE_MINUTES = 30
    patient = PatientFactory()
    user = patient.user
    response = response_start(
        subject=user, instrument="phq9", organisation_id=patient.organisation_id, by=user
    )
    plain_save(response=response, answers={"phq9-9": 1}, base_revision=0, by=user)
    assert unsubmitted_risk_alerts_due() == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert unsubmitted_risk_alerts_due() == 1
        assert unsubmitted_risk_alerts_due() == 0
    assert Concern.objects.filter(patient=patient).count() == 1
    plain_submit(response=response, by=user)  # sending it later raises no second alert
    assert Concern.objects.filter(patient=patient).count() == 1


def test_the_grace_period_job_runs_with_the_periodic_jobs(settings):
    assert "rarebridge.safety.services.unsubmitted_risk_alerts_due" in settings.PERIODIC_JOBS


def test_a_study_with_draft_wording_recruits_only_as_a_demo_or_pilot(study, cast):
    from django.core.exceptions import ValidationError

    from rarebridge.trials.selectors import public_studies, unfit_wording

    assert ("phq9", "de", "draft") in unfit_wording(study)
    assert ("sf12v1", "en", "placeholder") in unfit_wording(study)
    assert study in public_studies()  # the demo study is marked demo_or_pilot
    study.definition["demo_or_pilot"] = False
    study.save(update_fields=["definition"])
    assert study not in public_studies()
    assert Client().get(reverse("trials_public:join", args=[study.slug])).status_code == 404
    with pytest.raises(ValidationError):
        screen_in(study, cast.site, email="live@example.org")


def test_a_study_file_scheduling_an_instrument_without_its_required_options_is_refused(tmp_path):
    data = json.loads(STUDY_FILE.read_text(encoding="utf-8"))
    data["timepoints"][0]["instruments"].append("heiq")
    data["consent"]["texts"] = {
        site: {lang: str(Path(CONTENT_DIR) / rel) for lang, rel in langs.items()}
        for site, langs in data["consent"]["texts"].items()
    }
    path = tmp_path / "study.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StudyFileError) as error:
        read_study(path)
    assert any("heiq" in p and "scale_items" in p for p in error.value.problems)
