"""Studies as data, screening, consent, randomisation, assessments and withdrawal."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from rarebridge.core.models import AuditEntry
from rarebridge.engines import allocation as engine
from rarebridge.instruments.content import questionnaire
from rarebridge.instruments.models import Response
from rarebridge.notify.models import Message
from rarebridge.programs.models import Enrolment
from rarebridge.safety.models import Concern
from rarebridge.trials import services
from rarebridge.trials.content import StudyFileError, read_study
from rarebridge.trials.models import (
    Allocation,
    AllocationSlot,
    Assessment,
    AssessmentSend,
    ConsentRecord,
    ConsentVersion,
    Participant,
    ScreeningRecord,
    StratumCounter,
)
from rarebridge.trials.selectors import consort_numbers, needs_reconsent, slot_usage
from rarebridge.trials.services import (
    Contact,
    RandomisationRefused,
    assessment_invitations_due,
    consent_sign,
    participant_email_correct,
    participant_randomise,
    participant_withdraw,
    randomisation,
    response_for,
    response_save,
    response_submit,
    screening_record,
    study_load,
)
from tests.trials_helpers import (
    CALM_PHQ9,
    ELIGIBLE,
    STUDY_FILE,
    answer_all,
    confirm_email,
    consent,
    load_demo_study,
    ready_to_randomise,
    screen_in,
)


@pytest.fixture
def study(cast):
    return load_demo_study(cast)


# --- studies as data ---------------------------------------------------------------------


def test_it_loads_the_demo_study_with_arms_sites_targets_consent_and_strata(study, cast):
    assert [a["code"] for a in study.definition["arms"]] == ["intervention", "control"]
    assert study.study_sites.count() == 5
    assert set(study.study_sites.values_list("target", flat=True)) == {48}
    assert ConsentVersion.objects.filter(study=study).count() == 6  # one consent text per language
    # site x diagnosis: 5 x 3 strata, each with its concealed slots generated up front
    assert StratumCounter.objects.filter(study=study).count() == 15
    assert AllocationSlot.objects.filter(study=study).count() == 1500
    assert AuditEntry.objects.filter(action="trials.study.created").exists()


def test_it_fills_every_open_scoring_question_with_a_documented_default():
    data = read_study(STUDY_FILE).definition
    for key in ("sf12_version", "sf12_norms", "primary_missing_rule", "fsozu_form", "icq_coding"):
        assert key in data["scoring"]
    assert data["safety"]["phq9_item9_positive"] is True
    assert data["safety"]["phq9_total_at_least"] == 20


def test_it_loads_a_second_time_without_changes(study, cast):
    again, outcome = study_load(path=STUDY_FILE, organisation=cast.org)
    assert (again.pk, outcome) == (study.pk, "unchanged")


def test_it_reports_every_problem_of_a_broken_study_file(tmp_path):
    broken = json.loads(STUDY_FILE.read_text())
    broken["arms"] = broken["arms"][:1]
    broken["allocation"]["method"] = "coin"
    broken["timepoints"][0]["instruments"].append("nosuch")
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(StudyFileError) as error:
        read_study(path)
    text = " ".join(error.value.problems)
    assert "two arms" in text and "method" in text and "nosuch" in text


def test_it_loads_a_study_with_the_management_command(cast, study, capsys):
    call_command("load_study", str(STUDY_FILE), "--organisation", cast.org.slug)
    assert "unchanged" in capsys.readouterr().out


def test_it_reads_fhir_questionnaires_with_ordinal_values_and_translations(db):
    english = questionnaire("phq9", "en")
    german = questionnaire("phq9", "de")
    assert [i.link_id for i in english.questions][:2] == ["phq9-1", "phq9-2"]
    assert [o.value for o in english.questions[0].options] == [0, 1, 2, 3]
    assert german.questions[0].options[0].label != english.questions[0].options[0].label


# --- screening -----------------------------------------------------------------------------


def test_it_creates_an_account_and_participant_for_an_eligible_self_referral(study, cast):
    participant = screen_in(study, cast.site, email="pia@example.org")
    assert participant.status == Participant.Status.ELIGIBLE
    assert participant.patient.site == cast.site
    record = ScreeningRecord.objects.get(participant=participant)
    assert record.eligible and record.source == "self" and record.reasons == []


def _referred(study, site, *, by, email: str) -> Participant:
    outcome = screening_record(
        study=study,
        site=site,
        answers={**ELIGIBLE, "diagnosis": "PSC"},
        contact=Contact(
            full_name="Pia Patient",
            email=email,
            language="en",
            time_zone=site.time_zone,
            password="a long enough passphrase 42",
        ),
        by=by,
    )
    return outcome.participant


def test_a_self_referred_person_consents_only_once_their_address_is_confirmed(study, cast):
    participant = _referred(study, cast.site, by=None, email="pia@example.org")
    user = participant.patient.user
    sent = Message.objects.get(template_key="email_confirm", recipient=user)
    assert "/accounts/confirm-email/" in sent.body and sent.to_address == "pia@example.org"
    comprehension = {"voluntary": "yes", "chance": "yes", "emergency": "no"}

    with pytest.raises(ValidationError) as refused:
        consent_sign(
            participant=participant, typed_name=user.full_name, comprehension=comprehension, by=user
        )
    assert refused.value.code == "email_unconfirmed"
    assert not participant.consents.exists()

    confirm_email(user)
    consent_sign(
        participant=participant, typed_name=user.full_name, comprehension=comprehension, by=user
    )
    assert participant.consents.count() == 1


def test_only_the_participant_corrects_their_address_and_only_before_confirming(study, cast):
    participant = _referred(study, cast.site, by=None, email="pia@exmaple.org")
    user = participant.patient.user
    with pytest.raises(PermissionDenied):
        participant_email_correct(participant=participant, email="x@example.org", by=cast.admin)

    participant_email_correct(participant=participant, email="pia@example.org", by=user)
    user.refresh_from_db()
    assert user.email == "pia@example.org"
    assert Message.objects.filter(template_key="email_confirm").count() == 2
    assert Message.objects.filter(to_address="pia@example.org").count() == 1

    confirm_email(user)
    with pytest.raises(PermissionDenied):
        participant_email_correct(participant=participant, email="p2@example.org", by=user)


def test_a_person_a_coordinator_referred_needs_no_link(study, cast):
    # The coordinator spoke with them and took the address down: no link is sent.
    participant = _referred(study, cast.site, by=cast.coordinator, email="ola@example.org")
    user = participant.patient.user
    assert not Message.objects.filter(template_key="email_confirm").exists()
    consent_sign(
        participant=participant,
        typed_name=user.full_name,
        comprehension={"voluntary": "yes", "chance": "yes", "emergency": "no"},
        by=user,
    )
    assert participant.consents.count() == 1


def test_it_logs_each_reason_for_exclusion_and_keeps_no_contact_details(study, cast):
    outcome = screening_record(
        study=study,
        site=cast.site,
        answers={**ELIGIBLE, "diagnosis": "other", "ongoing_psychotherapy": True},
        contact=None,
        by=None,
    )
    assert outcome.participant is None and outcome.user is None
    assert outcome.record.reasons == ["no_confirmed_diagnosis", "ongoing_psychotherapy"]
    assert "diagnosis" not in outcome.record.answers


def test_it_marks_acute_suicidality_so_the_page_shows_crisis_resources(study, cast):
    outcome = screening_record(
        study=study,
        site=cast.site,
        answers={**ELIGIBLE, "acute_suicidality": True},
        contact=None,
        by=None,
    )
    assert outcome.crisis and "acute_suicidality" in outcome.record.reasons


def test_it_lets_a_coordinator_refer_only_at_their_own_site(study, cast):
    outcome = screening_record(
        study=study,
        site=cast.site,
        answers={**ELIGIBLE, "adult": False},
        contact=None,
        by=cast.coordinator,
    )
    assert outcome.record.source == "coordinator"
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        screening_record(
            study=study, site=cast.other_site, answers=ELIGIBLE, contact=None, by=cast.coordinator
        )


# --- consent -------------------------------------------------------------------------------


def test_it_stores_an_immutable_signed_pdf_with_its_sha256(study, cast):
    participant = screen_in(study, cast.site, email="pia@example.org")
    record = consent(participant)
    pdf = bytes(record.pdf)
    assert pdf.startswith(b"%PDF")
    assert record.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    participant.refresh_from_db()
    assert participant.status == Participant.Status.CONSENTED
    assert participant.assessments.get(timepoint="T0").instruments == ["phq9", "gad7", "sf12v1"]


def test_it_refuses_a_wrong_comprehension_answer_or_another_name(study, cast):
    participant = screen_in(study, cast.site, email="pia@example.org")
    with pytest.raises(ValidationError) as error:
        services.consent_sign(
            participant=participant,
            typed_name="Somebody Else",
            comprehension={"voluntary": "no", "chance": "yes", "emergency": "no"},
            by=participant.patient.user,
        )
    assert set(error.value.message_dict) == {"q_voluntary", "typed_name"}
    assert not ConsentRecord.objects.exists()


def test_it_keeps_the_signed_pdf_when_the_text_changes_and_asks_for_reconsent(
    study, cast, tmp_path, settings
):
    participant = screen_in(study, cast.site, email="pia@example.org")
    record = consent(participant, cast.coordinator)
    signed_pdf, signed_sha = bytes(record.pdf), record.pdf_sha256
    # The same version with another text is refused...
    content_dir = tmp_path / "content"
    (content_dir / "consent" / "qrare-demo" / "2").mkdir(parents=True)
    (content_dir / "instruments").symlink_to(settings.BASE_DIR / "content" / "instruments")
    for language in ("en", "de"):
        (content_dir / "consent" / "qrare-demo" / "2" / f"{language}.md").write_text(
            "# Changed\n\nA new paragraph about data sharing.\n"
        )
    data = json.loads(STUDY_FILE.read_text())
    data["consent"]["texts"] = {
        "*": {lang: f"consent/qrare-demo/2/{lang}.md" for lang in ("en", "de")}
    }
    path = tmp_path / "study.json"
    path.write_text(json.dumps(data))
    from rarebridge.trials import content as content_module

    original = content_module.CONTENT_DIR
    content_module.CONTENT_DIR = content_dir
    try:
        with pytest.raises(StudyFileError):
            study_load(path=path, organisation=cast.org)
        # ...and a new version is issued beside the old one.
        data["consent"]["version"] = "2"
        path.write_text(json.dumps(data))
        study_load(path=path, organisation=cast.org)
    finally:
        content_module.CONTENT_DIR = original
    record.refresh_from_db()
    assert bytes(record.pdf) == signed_pdf and record.pdf_sha256 == signed_sha
    assert needs_reconsent(participant=participant)
    with pytest.raises(RandomisationRefused):
        participant_randomise(participant=participant, by=cast.coordinator)
    new = consent(participant, cast.coordinator)
    assert new.version.version == "2" and new.pdf_sha256 != signed_sha
    record.refresh_from_db()
    assert record.superseded_at is not None
    assert not needs_reconsent(participant=participant)


# --- randomisation -------------------------------------------------------------------------


def test_it_refuses_to_randomise_before_consent_with_the_reason(study, cast):
    participant = screen_in(study, cast.site, email="pia@example.org")
    with pytest.raises(RandomisationRefused) as refusal:
        participant_randomise(participant=participant, by=cast.coordinator)
    assert refusal.value.code == "no_consent"


def test_it_refuses_to_randomise_before_countersignature_and_before_t0(study, cast):
    participant = screen_in(study, cast.site, email="pia@example.org")
    record = consent(participant)
    with pytest.raises(RandomisationRefused) as refusal:
        participant_randomise(participant=participant, by=cast.coordinator)
    assert refusal.value.code == "no_countersignature"
    services.consent_countersign(consent=record, by=cast.coordinator)
    with pytest.raises(RandomisationRefused) as refusal:
        participant_randomise(participant=participant, by=cast.coordinator)
    assert refusal.value.code == "baseline_missing"
    assert not Allocation.objects.exists()


def test_it_takes_the_next_concealed_slot_of_the_stratum_and_audits(study, cast):
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email="a@example.org")
    allocation = participant_randomise(participant=participant, by=cast.coordinator)
    stratum = engine.stratum_key(factors={"site": "Hamburg", "diagnosis": "PSC"})
    expected = engine.generate_sequence(
        secret=services.allocation_secret(study),
        stratum_key=stratum,
        design=randomisation._design(study),
        length=1,
    )[0]
    assert (allocation.stratum, allocation.slot_index, allocation.arm) == (stratum, 1, expected.arm)
    assert StratumCounter.objects.get(study=study, stratum=stratum).used == 1
    entry = AuditEntry.objects.get(action="trials.participant.randomised")
    assert entry.actor == cast.coordinator and "arm" not in entry.payload


def _arm_of(study, cast, email, arm):
    """Randomise participants until one lands in ``arm``; the others stay as they are."""
    for n in range(12):
        participant = ready_to_randomise(study, cast.site, cast.coordinator, email=f"{n}-{email}")
        allocation = participant_randomise(participant=participant, by=cast.coordinator)
        if allocation.arm == arm:
            return participant, allocation
    raise AssertionError("no allocation to " + arm)


def test_it_enrols_the_intervention_arm_so_the_patient_waits_for_a_counsellor(study, cast):
    from rarebridge.counselling.selectors import waiting_patients_for_user

    participant, allocation = _arm_of(study, cast, "i@example.org", "intervention")
    assert Enrolment.objects.filter(patient=participant.patient, status="active").exists()
    waiting = waiting_patients_for_user(user=cast.coordinator)
    assert participant.patient.pk in {getattr(p, "pk", p) for p in waiting}
    timepoints = dict(participant.assessments.values_list("timepoint", "due_at"))
    assert set(timepoints) == {"T0", "T1", "T2"}
    assert timepoints["T1"] > allocation.randomised_at + timedelta(weeks=6)


def test_it_gives_the_control_arm_questionnaires_only(study, cast):
    participant, _allocation = _arm_of(study, cast, "c@example.org", "control")
    assert not Enrolment.objects.filter(patient=participant.patient).exists()
    assert participant.assessments.filter(timepoint__in=["T1", "T2"]).count() == 2


def test_it_leaves_no_half_allocated_participant_when_a_step_fails(study, cast, monkeypatch):
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email="f@example.org")

    def broken(**kwargs):
        raise RuntimeError("the schedule could not be written")

    monkeypatch.setattr(randomisation, "schedule_assessments", broken)
    with pytest.raises(RuntimeError):
        participant_randomise(participant=participant, by=cast.coordinator)
    participant.refresh_from_db()
    assert participant.status == Participant.Status.CONSENTED
    assert not Allocation.objects.exists() and not Enrolment.objects.exists()
    assert sum(StratumCounter.objects.values_list("used", flat=True)) == 0
    monkeypatch.undo()
    allocation = participant_randomise(participant=participant, by=cast.coordinator)
    assert allocation.slot_index == 1


def test_it_shows_the_manager_used_and_remaining_slots_but_never_an_arm(study, cast):
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email="m@example.org")
    participant_randomise(participant=participant, by=cast.coordinator)
    rows = slot_usage(user=cast.trial_manager, study=study)
    assert {"stratum", "used", "remaining"} == set(rows[0])
    used = [r for r in rows if r["used"]]
    assert used == [{"stratum": used[0]["stratum"], "used": 1, "remaining": 99}]
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        slot_usage(user=cast.coordinator, study=study)


def test_it_appends_generated_slots_when_a_stratum_runs_out(study, cast):
    stratum = engine.stratum_key(factors={"site": "Hamburg", "diagnosis": "PSC"})
    counter = StratumCounter.objects.get(study=study, stratum=stratum)
    before = list(
        AllocationSlot.objects.filter(study=study, stratum=stratum)
        .order_by("index")
        .values_list("arm", flat=True)
    )
    StratumCounter.objects.filter(pk=counter.pk).update(used=100)
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email="x@example.org")
    allocation = participant_randomise(participant=participant, by=cast.coordinator)
    assert allocation.slot_index == 101
    after = list(
        AllocationSlot.objects.filter(study=study, stratum=stratum)
        .order_by("index")
        .values_list("arm", flat=True)
    )
    assert after[:100] == before and len(after) == 200


def test_it_imports_a_redcap_allocation_table_and_works_down_it(study, cast):
    study.definition["allocation"]["method"] = "table"
    study.save()
    rows = ["arm,site,diagnosis", "control,Hamburg,PSC", "intervention,Hamburg,PSC"]
    count = services.allocation_table_load(study=study, text="\n".join(rows), by=cast.trial_manager)
    assert count == 2
    first = ready_to_randomise(study, cast.site, cast.coordinator, email="t1@example.org")
    second = ready_to_randomise(study, cast.site, cast.coordinator, email="t2@example.org")
    third = ready_to_randomise(study, cast.site, cast.coordinator, email="t3@example.org")
    assert participant_randomise(participant=first, by=cast.coordinator).arm == "control"
    assert participant_randomise(participant=second, by=cast.coordinator).arm == "intervention"
    with pytest.raises(RandomisationRefused) as refusal:
        participant_randomise(participant=third, by=cast.coordinator)
    assert refusal.value.code == "sequence_exhausted"


def test_it_allocates_by_minimisation_when_the_study_says_so(study, cast):
    study.definition["allocation"]["method"] = "minimisation"
    # Without the random element the arms cannot drift apart (at 0.8 they may, by chance).
    study.definition["allocation"]["minimisation_p"] = 1.0
    study.save()
    arms = Counter()
    for n in range(6):
        participant = ready_to_randomise(
            study, cast.site, cast.coordinator, email=f"min{n}@example.org"
        )
        allocation = participant_randomise(participant=participant, by=cast.coordinator)
        assert allocation.method == "minimisation" and allocation.slot_index is None
        arms[allocation.arm] += 1
    assert arms["intervention"] == arms["control"] == 3


@settings(max_examples=40, deadline=None)
@given(
    secret=st.binary(min_size=16, max_size=32),
    stratum=st.text(min_size=1, max_size=20),
    length=st.integers(min_value=1, max_value=300),
    ratio=st.sampled_from([(1, 1), (2, 1), (1, 1, 1)]),
)
def test_it_balances_every_completed_block(secret, stratum, length, ratio):
    codes = ["a", "b", "c"][: len(ratio)]
    design = engine.BlockDesign(
        ratio=engine.AllocationRatio.from_weights(dict(zip(codes, ratio, strict=True))),
        multipliers=(1, 2),
    )
    slots = engine.generate_sequence(
        secret=secret, stratum_key=stratum, design=design, length=length
    )
    blocks: dict[int, list] = {}
    for slot in slots:
        blocks.setdefault(slot.block, []).append(slot)
    for members in blocks.values():
        if len(members) < members[0].block_size:
            continue  # the last, cut block
        counts = Counter(s.arm for s in members)
        per_unit = members[0].block_size // sum(ratio)
        assert counts == {code: w * per_unit for code, w in zip(codes, ratio, strict=True)}


# --- assessments ---------------------------------------------------------------------------


def test_it_scores_with_the_engine_and_stores_the_algorithm_version(study, cast):
    participant = screen_in(study, cast.site, email="s@example.org")
    consent(participant, cast.coordinator)
    results = answer_all(participant, "T0", phq9={**CALM_PHQ9, "phq9-1": 2, "phq9-2": 3})
    phq9 = results[0].response
    assert phq9.scores["total"]["value"] == 5 and phq9.scores["total"]["band"] == "mild"
    assert phq9.algorithm == "phq9@1" and "max_missing" in phq9.scoring_options
    assert participant.assessments.get(timepoint="T0").completed_at is not None


def test_it_raises_a_concern_at_once_when_item_9_is_above_zero(study, cast):
    participant = screen_in(study, cast.site, email="r@example.org")
    consent(participant, cast.coordinator)
    results = answer_all(participant, "T0", phq9={**CALM_PHQ9, "phq9-9": 1})
    assert results[0].crisis
    concern = Concern.objects.get(patient=participant.patient)
    assert concern.source == "questionnaire" and concern.raised_by is None


def test_it_raises_item_9_even_when_other_items_are_missing(study, cast):
    participant = screen_in(study, cast.site, email="r2@example.org")
    consent(participant, cast.coordinator)
    assessment = participant.assessments.get(timepoint="T0")
    response = response_for(assessment=assessment, instrument="phq9")
    response_save(
        response=response, answers={"phq9-9": 2}, base_revision=0, by=participant.patient.user
    )
    result = response_submit(response=response, by=participant.patient.user)
    assert result.crisis and result.response.scores["total"]["value"] is None
    assert Concern.objects.filter(patient=participant.patient).count() == 1


def test_it_raises_a_concern_for_a_total_at_the_study_threshold(study, cast):
    participant = screen_in(study, cast.site, email="t@example.org")
    consent(participant, cast.coordinator)
    severe = {f"phq9-{n}": 3 for n in range(1, 9)} | {"phq9-9": 0, "phq9-10": 0}
    results = answer_all(participant, "T0", phq9=severe)
    assert not results[0].crisis
    assert Concern.objects.get(patient=participant.patient).level == "medium"


def test_it_refuses_a_save_based_on_an_older_revision_and_keeps_revisions(study, cast):
    participant = screen_in(study, cast.site, email="v@example.org")
    consent(participant)
    response = response_for(
        assessment=participant.assessments.get(timepoint="T0"), instrument="phq9"
    )
    user = participant.patient.user
    assert (
        response_save(response=response, answers={"phq9-1": 1}, base_revision=0, by=user).status
        == "saved"
    )
    assert (
        response_save(response=response, answers={"phq9-1": 2}, base_revision=0, by=user).status
        == "conflict"
    )
    assert (
        response_save(response=response, answers={"phq9-1": 7}, base_revision=1, by=user).status
        == "invalid"
    )
    response.refresh_from_db()
    assert response.answers == {"phq9-1": 1} and response.revisions.count() == 1


def test_it_flags_answers_entered_by_a_coordinator(study, cast):
    participant = screen_in(study, cast.site, email="b@example.org")
    consent(participant, cast.coordinator)
    answer_all(participant, "T0", by=cast.coordinator)
    assert set(Response.objects.values_list("on_behalf", flat=True)) == {True}


def test_it_exports_responses_as_valid_fhir_questionnaire_responses(study, cast):
    from rarebridge.trials.fhir import responses_bundle

    participant = screen_in(study, cast.site, email="e@example.org")
    consent(participant, cast.coordinator)
    answer_all(participant, "T0")
    bundle = json.loads(responses_bundle(Response.objects.order_by("pk")))
    first = bundle["entry"][0]["resource"]
    assert first["resourceType"] == "QuestionnaireResponse" and first["status"] == "completed"
    assert first["subject"]["identifier"]["value"] == participant.patient.code
    assert first["item"][0]["answer"][0]["valueCoding"]["code"] == "0"
    assert "Pia" not in json.dumps(bundle)


def test_it_sends_each_invitation_and_reminder_once_in_the_window(study, cast):
    participant, _allocation = _arm_of(study, cast, "inv@example.org", "control")
    t1 = participant.assessments.get(timepoint="T1")

    def sent() -> list[int]:
        # Other participants randomised on the way may have windows open too: count this one's.
        sends = AssessmentSend.objects.filter(assessment=t1).order_by("number")
        return list(sends.values_list("number", flat=True))

    with time_machine.travel(t1.due_at - timedelta(hours=3), tick=False):
        assert assessment_invitations_due() >= 1
        assert sent() == [0]
        assert assessment_invitations_due() == 0
    with time_machine.travel(t1.due_at + timedelta(days=4), tick=False):
        assert assessment_invitations_due() >= 1
    assert sent() == [0, 1]
    assert Message.objects.filter(template_key="study_questionnaire").exists()


def test_it_sends_nothing_after_withdrawal_from_the_questionnaires(study, cast):
    participant, _allocation = _arm_of(study, cast, "wq@example.org", "control")
    participant_withdraw(
        participant=participant, level="questionnaires", by=participant.patient.user
    )
    t1 = participant.assessments.get(timepoint="T1")
    with time_machine.travel(t1.due_at - timedelta(hours=3), tick=False):
        assessment_invitations_due()
        assert not AssessmentSend.objects.filter(assessment__participant=participant).exists()
        # Whatever was typed is kept as a draft, but nothing can be sent in.
        response = response_for(assessment=t1, instrument="phq9")
        saved = response_save(
            response=response, answers={"phq9-1": 1}, base_revision=0, by=participant.patient.user
        )
        assert saved.status == "closed" and saved.errors["__all__"]
        with pytest.raises(ValidationError):
            response_submit(response=response, by=participant.patient.user)


# --- withdrawal ----------------------------------------------------------------------------


def test_it_ends_the_program_but_keeps_questionnaires_on_program_withdrawal(study, cast):
    from rarebridge.counselling.models import Assignment
    from rarebridge.counselling.services import assignment_start

    participant, _allocation = _arm_of(study, cast, "wp@example.org", "intervention")
    assignment_start(patient=participant.patient, counsellor=cast.counsellor, by=None)
    participant_withdraw(participant=participant, level="program", by=participant.patient.user)
    assert not Assignment.objects.filter(
        patient=participant.patient, ended_at__isnull=True
    ).exists()
    participant.refresh_from_db()
    assert not Enrolment.objects.filter(patient=participant.patient, status="active").exists()
    assert participant.status == Participant.Status.RANDOMISED
    assert not participant.questionnaires_stopped


def test_it_deletes_answers_on_full_withdrawal_where_consent_allows(study, cast):
    participant, _allocation = _arm_of(study, cast, "we@example.org", "control")
    assert Response.objects.filter(assessment__participant=participant).exists()
    participant_withdraw(
        participant=participant, level="entirely", delete_data=True, by=participant.patient.user
    )
    participant.refresh_from_db()
    assert participant.status == Participant.Status.WITHDRAWN
    assert not Response.objects.filter(assessment__participant=participant).exists()
    # the allocation and consent stay: the trial reports everyone randomised
    assert Allocation.objects.filter(participant=participant).exists()
    assert participant.consents.exists()
    with pytest.raises(ValidationError):
        participant_withdraw(
            participant=participant, level="program", delete_data=True, by=participant.patient.user
        )


def test_it_counts_the_consort_flow(study, cast):
    screening_record(
        study=study, site=cast.site, answers={**ELIGIBLE, "adult": False}, contact=None, by=None
    )
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email="k@example.org")
    participant_randomise(participant=participant, by=cast.coordinator)
    numbers = consort_numbers(user=cast.trial_manager, study=study)
    assert (numbers["screened"], numbers["excluded"], numbers["randomised"]) == (2, 1, 1)
    assert numbers["reasons"] == [("under_age", 1)]
    assert sum(arm["allocated"] for arm in numbers["arms"]) == 1


def test_it_keeps_assessments_in_utc_and_windows_in_the_participants_zone(study, cast):
    participant, _allocation = _arm_of(study, cast, "tz@example.org", "control")
    for assessment in Assessment.objects.filter(participant=participant):
        assert assessment.opens_at.utcoffset() == timedelta(0)
    t1 = participant.assessments.get(timepoint="T1")
    local = t1.due_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == (0, 0)
    assert datetime.now(UTC) < t1.due_at


def test_it_offers_the_control_arm_the_program_once_t2_is_complete(study, cast):
    participant, _allocation = _arm_of(study, cast, "t2@example.org", "control")
    t1 = participant.assessments.get(timepoint="T1")
    t2 = participant.assessments.get(timepoint="T2")
    with time_machine.travel(t1.due_at, tick=False):
        answer_all(participant, "T1")
    assert not Enrolment.objects.filter(patient=participant.patient).exists()
    with time_machine.travel(t2.due_at, tick=False):
        answer_all(participant, "T2")
    assert Enrolment.objects.filter(patient=participant.patient, status="active").exists()
    assert AuditEntry.objects.filter(action="trials.participant.program_offered").exists()


def test_it_runs_the_invitation_job_from_the_periodic_jobs(settings):
    assert "rarebridge.trials.services.assessment_invitations_due" in settings.PERIODIC_JOBS


def test_it_refuses_a_study_whose_sites_do_not_exist(cast):
    with pytest.raises(StudyFileError) as error:
        study_load(path=STUDY_FILE, organisation=cast.org)
    assert "Ghent" in " ".join(error.value.problems)
