"""What participants are told: messages after consent, countersignature and randomisation,
the "My study" timeline, each arm's own wording, and no 404 for a patient in no study."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from rarebridge.counselling.models import ReminderPreference
from rarebridge.engines import allocation as engine
from rarebridge.notify.models import Message
from rarebridge.trials.labels import arm_label, instrument_label, timepoint_label
from rarebridge.trials.models import AllocationSlot
from rarebridge.trials.services import participant_randomise
from rarebridge.trials.services.randomisation import strata_factors, stratum_counter
from tests.trials_helpers import answer_all, consent, load_demo_study, ready_to_randomise, screen_in

RAW_CODES = ("T0", "T1", "T2", "phq9", "gad7", "intervention", ">control")


@pytest.fixture
def study(cast):
    return load_demo_study(cast)


def randomise_into(participant, arm: str, by):
    """Randomise through the service, with every slot of the stratum set to ``arm``."""
    study = participant.study
    factors = strata_factors(
        study, site_name=participant.site.name, diagnosis=participant.diagnosis
    )
    stratum = engine.stratum_key(factors=factors)
    stratum_counter(study=study, stratum=stratum)
    AllocationSlot.objects.filter(study=study, stratum=stratum).update(arm=arm)
    return participant_randomise(participant=participant, by=by)


def _main(html: str) -> str:
    return html.split("<main", 1)[-1].split("</main>", 1)[0]


def test_it_shows_a_friendly_page_and_no_menu_item_to_a_patient_in_no_study(cast, as_user):
    client = as_user(cast.patient.user)
    page = client.get(reverse("trials_patient:home"))
    assert page.status_code == 200
    assert "You are not taking part in a study" in page.content.decode()
    home = client.get(reverse("patient:home")).content.decode()
    assert reverse("trials_patient:home") not in home


def test_it_shows_my_study_in_the_menu_to_participants(study, cast, as_user):
    participant = screen_in(study, cast.site, email="m@example.org")
    home = as_user(participant.patient.user).get(reverse("patient:home")).content.decode()
    assert f'href="{reverse("trials_patient:home")}"' in home


def test_it_tells_the_participant_after_consent_countersignature_and_randomisation(study, cast):
    participant = screen_in(study, cast.site, email="t@example.org")
    user = participant.patient.user
    user.language = "de"
    user.phone = "+4915100000000"
    user.save()
    ReminderPreference.objects.create(user=user, by_email=False, by_sms=True)
    consent(participant)
    sent = Message.objects.filter(recipient=user, template_key="study_consented")
    assert {m.channel for m in sent} == {"sms", "inapp"}
    assert all(m.language == "de" for m in sent)
    assert "Einwilligung" in sent.get(channel="sms").body
    consent(participant, cast.coordinator)  # signs again and is countersigned
    assert Message.objects.filter(recipient=user, template_key="study_countersigned").exists()
    answer_all(participant, "T0")
    participant.refresh_from_db()
    randomise_into(participant, "control", cast.coordinator)
    told = Message.objects.get(recipient=user, template_key="study_randomised", channel="sms")
    assert "übliche Versorgung" in told.body
    # Once per event.
    assert Message.objects.filter(recipient=user, template_key="study_randomised").count() == 2


def test_it_tells_by_email_when_no_preference_is_set(study, cast):
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email="e@example.org")
    randomise_into(participant, "intervention", cast.coordinator)
    told = Message.objects.get(template_key="study_randomised", channel="email")
    assert "Peer support program" in told.body and "Usual care" not in told.body
    assert told.subject == "Your group in the study"


def test_it_tells_the_control_arm_what_their_arm_means_and_when_the_program_opens(
    study, cast, as_user
):
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email="c@example.org")
    randomise_into(participant, "control", cast.coordinator)
    client = as_user(participant.patient.user)
    study_page = _main(client.get(reverse("trials_patient:home")).content.decode())
    assert "You continue with your usual care" in study_page
    assert "the peer support program opens to you too" in study_page
    assert "Your next questionnaires" in study_page
    assert "Your way through the study" in study_page
    for code in RAW_CODES:
        assert f">{code}<" not in study_page, code
    home = _main(client.get(reverse("patient:home")).content.decode())
    assert "has not started yet" not in home
    assert "usual care" in home
    calls = _main(client.get(reverse("patient:calls")).content.decode())
    assert "will be matched with you soon" not in calls
    assert "no calls with a peer counsellor" in calls


def test_it_shows_the_intervention_arm_its_program(study, cast, as_user):
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email="i@example.org")
    randomise_into(participant, "intervention", cast.coordinator)
    page = _main(
        as_user(participant.patient.user).get(reverse("trials_patient:home")).content.decode()
    )
    assert "six-week peer support program" in page
    assert "Go to your program" in page


def test_it_shows_the_timeline_with_what_happened_and_what_is_next(study, cast, as_user):
    participant = screen_in(study, cast.site, email="l@example.org")
    consent(participant)
    page = _main(
        as_user(participant.patient.user).get(reverse("trials_patient:home")).content.decode()
    )
    assert "You consented to take part" in page
    assert "The study team confirms your consent" in page
    assert 'aria-current="step"' in page
    assert "Baseline (T0)" in page


def test_it_names_codes_in_the_readers_language():
    with translation.override("de"):
        assert "PHQ-9" in instrument_label("phq9")
        assert instrument_label("phq9") != "Depression questionnaire (PHQ-9)"
        assert timepoint_label("T0") != "Baseline (T0)"
    assert timepoint_label("T0") == "Baseline (T0)"


def test_it_falls_back_to_our_arm_names_where_the_study_has_none(study):
    with translation.override("fr"):
        assert arm_label(study, "control") == "Soins habituels"
    with translation.override("de"):
        assert arm_label(study, "control") == "Übliche Versorgung"


def test_it_shows_staff_human_names_for_timepoints_instruments_and_arms(study, cast, as_user):
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email="s@example.org")
    randomise_into(participant, "control", cast.coordinator)
    page = as_user(cast.coordinator).get(
        reverse("trials_staff:participant", args=[study.slug, participant.pk])
    )
    html = _main(page.content.decode())
    assert "Baseline (T0)" in html
    assert "Depression questionnaire (PHQ-9)" in html
    assert "Allocated to Usual care" in html
