"""The study pages: public self-referral, the participant's pages, the study team's pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rarebridge.core.models import AuditEntry
from rarebridge.instruments.models import Response
from rarebridge.notify.models import Message
from rarebridge.trials.models import Allocation, Participant, ScreeningRecord
from tests.factories import CrisisResourceFactory
from tests.trials_helpers import (
    CALM_PHQ9,
    ELIGIBLE,
    answer_all,
    confirm_email,
    consent,
    load_demo_study,
    ready_to_randomise,
    screen_in,
)

REFER_YES_NO = {k: "yes" if v is True else "no" for k, v in ELIGIBLE.items() if k != "diagnosis"}


@pytest.fixture
def study(cast):
    return load_demo_study(cast)


def _join_data(cast, **overrides):
    data = {
        "site": str(cast.site.pk),
        "language": "en",
        "full_name": "Pia Patient",
        "email": "pia@example.org",
        "password": "a long enough passphrase 42",
        **{k: "on" for k, v in ELIGIBLE.items() if v is True},
        "diagnosis": "PSC",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- public --------------------------------------------------------------------------------


def test_it_shows_the_checklist_to_anyone(study, cast):
    CrisisResourceFactory(country=cast.site.country, name="Telefonseelsorge")
    page = Client().get(reverse("trials_public:join", args=[study.slug]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "acute_suicidality" in html and "Telefonseelsorge" in html
    assert 'id="crisis-now"' in html


def _confirmation_link(email: str) -> str:
    message = Message.objects.filter(template_key="email_confirm", to_address=email).latest("pk")
    found = re.search(r"(/accounts/confirm-email/\S+)", message.body)
    assert found, message.body
    return found.group(1)


def test_it_signs_up_an_eligible_person_and_leads_them_to_consent_once_their_address_is_confirmed(
    study, cast
):
    client = Client()
    page = client.post(reverse("trials_public:join", args=[study.slug]), _join_data(cast))
    assert page.status_code == 302 and page["Location"] == reverse("trials_patient:home")
    home = client.get(reverse("trials_patient:home")).content.decode()
    # Nobody has checked the address yet: the first step is the link sent there.
    assert reverse("trials_patient:consent") not in home
    assert "pia@example.org" in home and reverse("trials_patient:email_confirmation") in home
    assert client.get(reverse("trials_patient:consent"))["Location"] == reverse(
        "trials_patient:home"
    )

    link = _confirmation_link("pia@example.org")
    assert "next=%2Fme%2Fstudy%2F" in link
    assert "pia@example.org" in client.get(link).content.decode()
    confirmed = client.post(link, {"next": reverse("trials_patient:home")})
    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("trials_patient:home")

    home = client.get(reverse("trials_patient:home")).content.decode()
    assert reverse("trials_patient:consent") in home
    assert "your e-mail address is confirmed" in home
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"accounts.email.confirmation_sent", "accounts.email.confirmed"} <= actions


def test_it_sends_a_new_confirmation_link_on_request_but_not_twice_in_a_minute(study, cast):
    client = Client()
    client.post(reverse("trials_public:join", args=[study.slug]), _join_data(cast))
    first = _confirmation_link("pia@example.org")

    page = client.post(reverse("trials_patient:email_confirmation"), follow=True)
    assert "A new link is on its way" in page.content.decode()
    assert Message.objects.filter(template_key="email_confirm").count() == 2
    page = client.post(reverse("trials_patient:email_confirmation"), follow=True)
    assert "Please wait a few minutes" in page.content.decode()

    # Either link confirms; afterwards there is nothing left to send.
    client.post(first)
    client.post(reverse("trials_patient:email_confirmation"))
    assert Message.objects.filter(template_key="email_confirm").count() == 2


def test_a_mistyped_address_is_corrected_and_the_link_goes_to_the_new_one(study, cast):
    client = Client()
    client.post(
        reverse("trials_public:join", args=[study.slug]),
        _join_data(cast, email="pia@exmaple.org"),
    )
    url = reverse("trials_patient:email_correct")

    page = client.post(url, {"email": "pia at example"})
    assert page.status_code == 422
    html = page.content.decode()
    assert (
        "error-summary" in html and "name@example.org" in html and 'value="pia at example"' in html
    )
    page = client.post(url, {"email": cast.counsellor.email})
    assert page.status_code == 422 and "cannot be used here" in page.content.decode()

    page = client.post(url, {"email": "Pia@Example.org"}, follow=True)
    assert "From now on you sign in with this address" in page.content.decode()
    user = Participant.objects.get().patient.user
    assert user.email == "pia@example.org"
    client.post(_confirmation_link("pia@example.org"))
    assert (
        reverse("trials_patient:consent")
        in client.get(reverse("trials_patient:home")).content.decode()
    )
    assert AuditEntry.objects.filter(action="accounts.email.corrected").count() == 1
    # A confirmed address is not replaced this way.
    assert client.post(url, {"email": "other@example.org"}).status_code == 302
    user.refresh_from_db()
    assert user.email == "pia@example.org"


def test_the_address_pages_answer_only_the_participant(study, cast, as_user):
    for name in ("trials_patient:email_confirmation", "trials_patient:email_correct"):
        url = reverse(name)
        assert as_user(cast.counsellor).post(url, {"email": "x@example.org"}).status_code == 404
        assert Client().post(url).status_code == 302  # to sign-in
        assert as_user(cast.patient.user).get(url).status_code == 405
    assert Client().get(reverse("public:email_change")).status_code == 302


def test_the_coordinator_sees_that_a_participant_has_not_confirmed_their_address(
    study, cast, as_user
):
    Client().post(reverse("trials_public:join", args=[study.slug]), _join_data(cast))
    participant = Participant.objects.get()
    url = reverse("trials_staff:participant", args=[study.slug, participant.pk])
    assert (
        "not yet confirmed their e-mail address"
        in as_user(cast.coordinator).get(url).content.decode()
    )
    confirm_email(participant.patient.user)
    assert "not yet confirmed" not in as_user(cast.coordinator).get(url).content.decode()


def test_an_expired_confirmation_link_says_how_to_get_a_new_one(study, cast):
    client = Client()
    client.post(reverse("trials_public:join", args=[study.slug]), _join_data(cast))
    link = _confirmation_link("pia@example.org")
    with time_machine.travel(timedelta(days=4)):
        page = client.get(link).content.decode()
    assert "This link has expired" in page and reverse("trials_patient:home") in page


def test_it_shows_crisis_resources_at_once_to_someone_ticking_suicidality(study, cast):
    CrisisResourceFactory(country=cast.site.country, name="Telefonseelsorge")
    page = Client().post(
        reverse("trials_public:join", args=[study.slug]),
        _join_data(cast, acute_suicidality="on", full_name=None, email=None, password=None),
    )
    assert page.status_code == 200
    assert "Telefonseelsorge" in page.content.decode()
    assert ScreeningRecord.objects.get().reasons == ["acute_suicidality"]
    assert not Participant.objects.exists()


def test_it_answers_404_for_an_unknown_study(db):
    assert Client().get(reverse("trials_public:join", args=["nosuch"])).status_code == 404


def test_it_refuses_the_wrong_method_on_the_public_form(study):
    assert Client().put(reverse("trials_public:join", args=[study.slug])).status_code == 405


# --- participant ---------------------------------------------------------------------------


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_it_lets_the_participant_consent_on_the_page(study, cast):
    participant = screen_in(study, cast.site, email="pia@example.org")
    client = _client(participant.patient.user)
    wrong = client.post(
        reverse("trials_patient:consent"),
        {"q_voluntary": "no", "q_chance": "yes", "q_emergency": "no", "typed_name": "Pia Patient"},
    )
    assert wrong.status_code == 422
    right = client.post(
        reverse("trials_patient:consent"),
        {"q_voluntary": "yes", "q_chance": "yes", "q_emergency": "no", "typed_name": "pia patient"},
    )
    assert right.status_code == 302
    record = participant.consents.get()
    pdf = client.get(reverse("trials_patient:consent_pdf", args=[record.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content == bytes(record.pdf)


def test_it_autosaves_reviews_and_submits_a_questionnaire(study, cast):
    participant = screen_in(study, cast.site, email="pia@example.org")
    consent(participant)
    client = _client(participant.patient.user)
    url = reverse("trials_patient:answer", args=["T0", "phq9"])
    page = client.get(url)
    assert page.status_code == 200 and b"<fieldset" in page.content
    saved = client.post(url, {"action": "autosave", "base_revision": "0", "phq9-1": "2"})
    assert saved.status_code == 200 and saved.json()["revision"] == 1
    stale = client.post(url, {"action": "autosave", "base_revision": "0", "phq9-1": "1"})
    assert stale.status_code == 409
    full = {k: str(v) for k, v in CALM_PHQ9.items()}
    review = client.post(url, {"base_revision": "1", **full})
    assert review["Location"] == reverse("trials_patient:review", args=["T0", "phq9"])
    assert b"Not at all" in client.get(review["Location"]).content
    sent = client.post(review["Location"])
    assert sent["Location"] == reverse("trials_patient:answer", args=["T0", "gad7"])
    assert Response.objects.get(instrument="phq9").submitted_at is not None


def test_it_shows_the_countrys_crisis_resources_right_after_a_risk_answer(study, cast):
    CrisisResourceFactory(country=cast.site.country, name="Telefonseelsorge")
    participant = screen_in(study, cast.site, email="pia@example.org")
    consent(participant)
    client = _client(participant.patient.user)
    url = reverse("trials_patient:answer", args=["T0", "phq9"])
    client.post(url, {"base_revision": "0", **dict.fromkeys(CALM_PHQ9, "0"), "phq9-9": "1"})
    page = client.post(reverse("trials_patient:review", args=["T0", "phq9"]))
    assert page.status_code == 200 and "Telefonseelsorge" in page.content.decode()


def test_it_keeps_participant_pages_from_other_people(study, cast, as_user):
    assert as_user(cast.coordinator).get(reverse("trials_patient:home")).status_code == 404
    # A patient in no study sees a friendly page there (no 404), and nothing of anyone else's.
    client = as_user(cast.patient.user)
    assert client.get(reverse("trials_patient:home")).status_code == 200
    assert client.get(reverse("trials_patient:consent")).status_code == 404


def test_it_lets_the_participant_withdraw_from_questionnaires(study, cast):
    participant = screen_in(study, cast.site, email="pia@example.org")
    client = _client(participant.patient.user)
    page = client.post(reverse("trials_patient:withdraw"), {"level": "questionnaires"})
    assert page.status_code == 302
    participant.refresh_from_db()
    assert participant.withdrawal == "questionnaires"
    assert AuditEntry.objects.filter(action="trials.participant.withdrawn").exists()


# --- study team ----------------------------------------------------------------------------


def test_it_shows_the_dashboard_with_recruitment_consort_completeness_and_slots(
    study, cast, as_user
):
    page = as_user(cast.trial_manager).get(reverse("trials_staff:dashboard", args=[study.slug]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Ghent" in html and "CONSORT" in html and "site=Hamburg" in html
    coordinator = as_user(cast.coordinator).get(
        reverse("trials_staff:dashboard", args=[study.slug])
    )
    assert coordinator.status_code == 200 and "site=Hamburg" not in coordinator.content.decode()


def test_it_hides_study_pages_from_patients_and_other_organisations(study, cast, as_user):
    url = reverse("trials_staff:dashboard", args=[study.slug])
    assert as_user(cast.patient.user).get(url).status_code == 404
    assert as_user(cast.outsider).get(url).status_code == 404


def test_it_randomises_from_the_participant_page_and_audits(study, cast, as_user):
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email="r@example.org")
    client = as_user(cast.coordinator)
    url = reverse("trials_staff:randomise", args=[study.slug, participant.pk])
    assert client.post(url, {"confirm": "yes"}).status_code == 302
    assert Allocation.objects.filter(participant=participant).exists()
    assert AuditEntry.objects.filter(
        action="trials.participant.randomised", actor=cast.coordinator
    ).exists()


def test_it_shows_the_refusal_reason_instead_of_randomising(study, cast, as_user):
    participant = screen_in(study, cast.site, email="n@example.org")
    client = as_user(cast.coordinator)
    page = client.post(
        reverse("trials_staff:randomise", args=[study.slug, participant.pk]),
        {"confirm": "yes"},
        follow=True,
    )
    assert "not consented" in page.content.decode()
    assert not Allocation.objects.exists()


def test_it_forbids_randomising_at_another_site(study, cast, as_user):
    participant = ready_to_randomise(study, cast.other_site, cast.trial_manager, email="o@x.org")
    page = as_user(cast.coordinator).post(
        reverse("trials_staff:randomise", args=[study.slug, participant.pk]), {"confirm": "yes"}
    )
    assert page.status_code == 404


def test_it_never_shows_the_next_allocation_on_any_study_page(study, cast, as_user):
    participant = ready_to_randomise(study, cast.site, cast.coordinator, email="h@example.org")
    client = as_user(cast.trial_manager)
    for url in (
        reverse("trials_staff:dashboard", args=[study.slug]),
        reverse("trials_staff:participants", args=[study.slug]),
        reverse("trials_staff:participant", args=[study.slug, participant.pk]),
    ):
        html = client.get(url).content.decode()
        assert "intervention" not in html.replace('"intervention"', "").split("CONSORT")[0]
        assert 'value="intervention"' not in html


def test_it_lists_participants_with_a_constant_number_of_queries(study, cast, as_user):
    client = as_user(cast.trial_manager)
    url = reverse("trials_staff:participants", args=[study.slug])
    screen_in(study, cast.site, email="q0@example.org")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(1, 6):
        screen_in(study, cast.site, email=f"q{n}@example.org")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_it_lets_a_coordinator_refer_and_countersign(study, cast, as_user):
    client = as_user(cast.coordinator)
    page = client.post(
        reverse("trials_staff:refer", args=[study.slug]),
        {
            "site": str(cast.site.pk),
            "diagnosis": "AIH",
            **REFER_YES_NO,
            "full_name": "Rolf Referred",
            "email": "rolf@example.org",
            "language": "de",
            "step": "confirm",
        },
    )
    participant = Participant.objects.get(patient__user__email="rolf@example.org")
    assert page["Location"] == reverse(
        "trials_staff:participant", args=[study.slug, participant.pk]
    )
    assert ScreeningRecord.objects.get(participant=participant).source == "coordinator"
    record = consent(participant)
    client.post(
        reverse("trials_staff:countersign", args=[study.slug, participant.pk]), {"confirm": "yes"}
    )
    record.refresh_from_db()
    assert record.countersigned_by == cast.coordinator
    log = client.get(reverse("trials_staff:screening", args=[study.slug]))
    assert log.status_code == 200


def test_it_lets_a_coordinator_enter_answers_by_phone(study, cast, as_user):
    participant = screen_in(study, cast.site, email="p@example.org")
    consent(participant, cast.coordinator)
    client = as_user(cast.coordinator)
    url = reverse("trials_staff:data_entry", args=[study.slug, participant.pk, "T0", "phq9"])
    assert client.get(url).status_code == 200
    page = client.post(url, {**dict.fromkeys(CALM_PHQ9, "1"), "phq9-9": "0"})
    assert page.status_code == 302
    response = Response.objects.get(instrument="phq9")
    assert response.on_behalf and response.entered_by == cast.coordinator
    assert as_user(cast.trial_manager).get(url).status_code == 403


def test_it_exports_fhir_only_for_the_trial_manager(study, cast, as_user):
    participant = screen_in(study, cast.site, email="x@example.org")
    consent(participant, cast.coordinator)
    answer_all(participant, "T0")
    url = reverse("trials_staff:export_fhir", args=[study.slug])
    page = as_user(cast.trial_manager).get(url)
    assert page.status_code == 200 and page.json()["resourceType"] == "Bundle"
    assert as_user(cast.coordinator).get(url).status_code == 403


def test_it_lets_the_trial_manager_upload_an_allocation_table_and_lists_problems(
    study, cast, as_user
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    study.definition["allocation"]["method"] = "table"
    study.save()
    url = reverse("trials_staff:allocation_table", args=[study.slug])
    client = as_user(cast.trial_manager)
    bad = SimpleUploadedFile("t.csv", b"arm,site,diagnosis\nplacebo,Hamburg,PSC\n")
    page = client.post(url, {"table": bad})
    assert page.status_code == 422 and "Row 2" in page.content.decode()
    good = SimpleUploadedFile("t.csv", b"arm,site,diagnosis\ncontrol,Hamburg,PSC\n")
    assert client.post(url, {"table": good}).status_code == 302
    assert as_user(cast.coordinator).get(url).status_code == 403
    assert as_user(cast.outsider).get(url).status_code == 404


def test_it_lists_open_studies_publicly(study):
    page = Client().get(reverse("trials_public:studies"))
    assert page.status_code == 200 and study.title in page.content.decode()


def test_it_audits_reading_and_listing_participants(study, cast, as_user):
    participant = screen_in(study, cast.site, email="aud@example.org")
    client = as_user(cast.coordinator)
    client.get(reverse("trials_staff:participants", args=[study.slug]))
    client.get(reverse("trials_staff:participant", args=[study.slug, participant.pk]))
    listed = AuditEntry.objects.get(action="trials.participant.listed")
    assert listed.payload["ids"] == [participant.pk] and listed.actor == cast.coordinator
    assert AuditEntry.objects.filter(
        action="trials.participant.viewed", object_id=str(participant.pk)
    ).exists()


def test_it_keeps_data_entry_from_other_organisations_and_wrong_methods(study, cast, as_user):
    participant = screen_in(study, cast.site, email="de@example.org")
    consent(participant, cast.coordinator)
    url = reverse("trials_staff:data_entry", args=[study.slug, participant.pk, "T0", "phq9"])
    assert as_user(cast.outsider).get(url).status_code == 404
    assert as_user(cast.coordinator).delete(url).status_code == 405
    assert as_user(cast.patient.user).get(url).status_code == 404


def test_it_lists_overdue_questionnaires_for_the_coordinator_to_chase(study, cast, as_user):
    import time_machine

    from tests.test_trials import _arm_of

    participant, _allocation = _arm_of(study, cast, "late@example.org", "control")
    t1 = participant.assessments.get(timepoint="T1")
    url = reverse("trials_staff:dashboard", args=[study.slug])
    with time_machine.travel(t1.due_at + timedelta(days=2), tick=False):
        page = as_user(cast.coordinator).get(url)
    assert str(participant) in page.content.decode().split("Overdue questionnaires")[1]
    page = as_user(cast.coordinator).get(url)
    assert "Nothing overdue." in page.content.decode()


def test_it_limits_self_referrals_per_connection_and_keeps_what_was_typed(study, cast, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "trial_join": "1/h/ip"}
    url = reverse("trials_public:join", args=[study.slug])
    first = Client().post(url, _join_data(cast))
    assert first.status_code == 302
    second = Client().post(
        url, _join_data(cast, email="second@example.org", full_name="Rita Repeat")
    )
    html = second.content.decode()
    assert second.status_code == 200 and "Too many sign-ups" in html
    assert 'value="Rita Repeat"' in html
    assert Participant.objects.count() == 1
