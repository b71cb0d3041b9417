"""The safety net: concerns, alerts, escalation, supervision.

On top of the fixed cast, ``chain`` gives Hamburg (Germany) a full escalation chain: Sam and
then Sofia as the country's supervisors, and Clara as the site's responsible clinician.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rarebridge.accounts.models import User
from rarebridge.core.models import AuditEntry
from rarebridge.core.periodic import run_periodic_jobs
from rarebridge.core.permissions import Role
from rarebridge.network.models import Country
from rarebridge.notify.models import Message, OutboxItem
from rarebridge.safety.models import Alert, AlertNotification, Concern, SupervisionMeeting
from rarebridge.safety.services import (
    alert_acknowledge,
    alert_close,
    alerts_escalate_due,
    concern_raise,
    escalation_chain,
    on_duty_add,
    responder_add,
)
from tests.conftest import Cast, staff
from tests.factories import CrisisResourceFactory, OrganisationFactory, PatientFactory, SiteFactory

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PAST_DEADLINE = dt.timedelta(minutes=16)  # high: 15 minutes to acknowledge


@dataclass
class Chain:
    cast: Cast
    sam: User
    sofia: User
    clara: User


@pytest.fixture
def chain(cast) -> Chain:
    sam = cast.supervisor
    sam.phone = "+4915112345678"
    sam.save(update_fields=["phone"])
    sofia = staff(
        Role.SUPERVISOR,
        cast.org,
        cast.site,
        full_name="Sofia Second",
        email="sofia@example.org",
        phone="+4915112345679",
    )
    clara = staff(
        Role.SUPERVISOR,
        cast.org,
        cast.site,
        full_name="Clara Clinician",
        email="clara@example.org",
        phone="+4915112345670",
    )
    de = Country.objects.get(code="DE")
    responder_add(organisation=cast.org, country=de, user=sam, order=1, by=None)
    responder_add(organisation=cast.org, country=de, user=sofia, order=2, by=None)
    responder_add(organisation=cast.org, site=cast.site, user=clara, is_clinician=True, by=None)
    return Chain(cast=cast, sam=sam, sofia=sofia, clara=clara)


def raise_high(cast: Cast, *, by: User | None = None, level: str = "high") -> Alert:
    concern = concern_raise(
        patient=cast.patient,
        level=level,
        observed="Said she sees no way forward.",
        by=by or cast.counsellor,
    )
    return Alert.objects.get(concern=concern)


def told(alert: Alert, step: int) -> set[str]:
    return set(
        AlertNotification.objects.filter(alert=alert, step=step).values_list(
            "recipient__full_name", flat=True
        )
    )


def raise_url(patient) -> str:
    return reverse("safety:concern_raise", args=[patient.pk])


# --- raising a concern from the page ----------------------------------------------------------


def test_it_raises_a_concern_from_the_page_and_audits_it(chain, as_user):
    cast = chain.cast
    response = as_user(cast.counsellor).post(
        raise_url(cast.patient), {"level": "high", "observed": "Talked about ending it."}
    )
    concern = Concern.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("safety:alert_detail", args=[concern.alert.pk])
    assert concern.raised_by == cast.counsellor and concern.level == "high"
    assert concern.source == "person" and concern.organisation == cast.org
    entry = AuditEntry.objects.get(action="safety.concern.raised")
    assert entry.actor == cast.counsellor and entry.organisation_id == cast.org.pk
    assert entry.payload == {"level": "high", "source": "person", "patient": cast.patient.pk}
    assert "ending" not in str(entry.payload)  # what was observed stays out of the log
    assert AuditEntry.objects.filter(action="safety.alert.raised").count() == 1
    assert AuditEntry.objects.filter(action="safety.alert.notified").count() == 1


def organisation_wide(person: User) -> None:
    """Give a supervisor the whole organisation (their role assignment's flag): the Toronto
    patient is then in reach of a supervisor based in Hamburg."""
    person.role_assignments.update(organisation_wide=True)
    person.__dict__.pop("_active_roles", None)
    person.__dict__.pop("_site_reach", None)


def test_it_lets_a_supervisor_raise_a_concern_too(chain, as_user):
    cast = chain.cast
    organisation_wide(chain.sofia)
    response = as_user(chain.sofia).post(
        raise_url(cast.other_patient), {"level": "medium", "observed": "Withdrawn lately."}
    )
    assert response.status_code == 302
    assert Concern.objects.get().patient == cast.other_patient


def test_it_shows_the_raise_page_with_the_countrys_crisis_resources(chain, as_user):
    CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    response = as_user(chain.cast.counsellor).get(raise_url(chain.cast.patient))
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "TelefonSeelsorge" in html
        and "<legend>How urgent is it?</legend>" in html
        and 'name="observed"' in html
    )


def test_it_refuses_raising_to_roles_without_the_right(chain, as_user):
    cast = chain.cast
    url = raise_url(cast.patient)
    data = {"level": "high", "observed": "x"}
    assert as_user(cast.coordinator).post(url, data).status_code == 403  # sees, may not raise
    assert as_user(cast.care_coordinator).get(url).status_code == 403
    assert as_user(cast.admin).get(url).status_code == 404  # no patients at all
    assert as_user(cast.patient.user).post(url, data).status_code == 404
    assert not Concern.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="safety.concern").exists()


def test_it_hides_patients_of_other_organisations_and_other_caseloads(chain, as_user):
    cast = chain.cast
    data = {"level": "high", "observed": "x"}
    assert as_user(cast.outsider).post(raise_url(cast.patient), data).status_code == 404
    assert as_user(cast.counsellor).post(raise_url(cast.other_patient), data).status_code == 404
    assert as_user(cast.counsellor).post(raise_url(cast.outsider_patient), data).status_code == 404
    assert as_user(chain.sam).get(raise_url(cast.outsider_patient)).status_code == 404
    assert not Concern.objects.exists()


def test_it_refuses_the_wrong_http_methods(chain, as_user):
    cast = chain.cast
    alert = raise_high(cast)
    client = as_user(chain.sam)
    assert as_user(cast.counsellor).put(raise_url(cast.patient)).status_code == 405
    assert client.post(reverse("safety:alerts")).status_code == 405
    assert client.post(reverse("safety:alert_detail", args=[alert.pk])).status_code == 405
    assert client.get(reverse("safety:alert_acknowledge", args=[alert.pk])).status_code == 405
    assert client.get(reverse("safety:alert_close", args=[alert.pk])).status_code == 405
    assert client.delete(reverse("safety:supervision")).status_code == 405


def test_it_keeps_what_was_typed_when_the_level_is_missing(chain, as_user):
    response = as_user(chain.cast.counsellor).post(
        raise_url(chain.cast.patient), {"observed": "Not sleeping, gave things away."}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "error-summary" in html
    assert "Not sleeping, gave things away." in html
    assert not Concern.objects.exists()


def test_it_escapes_what_was_observed_on_the_alert_page(chain, as_user):
    cast = chain.cast
    as_user(cast.counsellor).post(
        raise_url(cast.patient), {"level": "low", "observed": "<script>alert(1)</script>"}
    )
    alert = Alert.objects.get()
    assert alert.concern.observed == "<script>alert(1)</script>"  # stored as typed
    html = as_user(chain.sam).get(reverse("safety:alert_detail", args=[alert.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


# --- notifications --------------------------------------------------------------------------


def test_it_alerts_the_first_responder_by_email_sms_and_in_app(
    chain, as_user, django_capture_on_commit_callbacks, mailoutbox
):
    cast = chain.cast
    with django_capture_on_commit_callbacks(execute=True):
        as_user(cast.counsellor).post(
            raise_url(cast.patient), {"level": "high", "observed": "Said goodbye."}
        )
    alert = Alert.objects.get()
    link = f"/safety/alerts/{alert.pk}/"
    (mail,) = mailoutbox
    assert mail.to == ["sam@example.org"]
    assert mail.subject.startswith("Safety alert (High)") and cast.patient.code in mail.subject
    assert link in mail.body and "Anna" not in mail.body
    (sms,) = OutboxItem.objects.filter(channel="sms")
    assert sms.to_address == "+4915112345678"
    assert cast.patient.code in sms.body and link in sms.body
    assert "Anna" not in sms.body and "Schmidt" not in sms.body  # never the patient's name
    (inapp,) = Message.objects.filter(channel="inapp")
    assert inapp.recipient == chain.sam and link in inapp.body and inapp.status == "sent"
    assert told(alert, 0) == {"Sam Supervisor"}


def test_it_keeps_whoever_raised_it_out_of_their_own_alert(chain):
    alert = raise_high(chain.cast, by=chain.sam)
    assert told(alert, 0) == {"Sofia Second"}
    assert chain.sam.pk not in alert.chain


# --- escalation -----------------------------------------------------------------------------


def test_it_escalates_an_unacknowledged_high_alert_down_the_chain_until_acknowledged(chain):
    with time_machine.travel(START, tick=False) as clock:
        alert = raise_high(chain.cast)
        assert told(alert, 0) == {"Sam Supervisor"}

        clock.shift(dt.timedelta(minutes=14))
        assert alerts_escalate_due() == 0  # not yet due

        clock.shift(dt.timedelta(minutes=2))
        assert alerts_escalate_due() == 1
        assert told(alert, 1) == {"Sofia Second", "Clara Clinician"}  # next, and the clinician

        clock.shift(PAST_DEADLINE)
        assert alerts_escalate_due() == 1
        assert told(alert, 2) == {"Clara Clinician"}

        alert_acknowledge(alert=alert, by=chain.clara)
        clock.shift(dt.timedelta(hours=5))
        assert alerts_escalate_due() == 0
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == chain.clara
    assert alert.step == 2 and alert.due_at is None
    assert not AlertNotification.objects.filter(alert=alert, step__gt=2).exists()
    escalations = AuditEntry.objects.filter(action="safety.alert.escalated", object_id=alert.pk)
    assert [e.payload["step"] for e in escalations.order_by("id")] == [1, 2]
    entry = AuditEntry.objects.get(action="safety.alert.acknowledged")
    assert entry.actor == chain.clara and entry.payload["waited_seconds"] == 32 * 60


def test_it_sends_escalation_messages_on_all_channels(
    chain, django_capture_on_commit_callbacks, mailoutbox
):
    with time_machine.travel(START, tick=False) as clock:
        alert = raise_high(chain.cast)
        clock.shift(PAST_DEADLINE)
        with django_capture_on_commit_callbacks(execute=True):
            alerts_escalate_due()
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert set(subjects) == {"sofia@example.org", "clara@example.org"}
    assert subjects["sofia@example.org"].startswith("Escalated: safety alert (High)")
    sms_to = set(OutboxItem.objects.filter(channel="sms").values_list("to_address", flat=True))
    assert sms_to == {"+4915112345679", "+4915112345670"}
    assert Message.objects.filter(channel="inapp", template_key="alert_escalated").count() == 2
    assert f"/safety/alerts/{alert.pk}/" in mailoutbox[0].body


def test_it_never_sends_anything_twice_when_escalation_runs_twice(chain):
    with time_machine.travel(START, tick=False) as clock:
        raise_high(chain.cast)
        clock.shift(PAST_DEADLINE)
        assert alerts_escalate_due() == 1
        messages = Message.objects.count()
        notifications = AlertNotification.objects.count()
        assert alerts_escalate_due() == 0
        assert alerts_escalate_due() == 0
    assert Message.objects.count() == messages
    assert AlertNotification.objects.count() == notifications
    assert AuditEntry.objects.filter(action="safety.alert.escalated").count() == 1


def test_it_reminds_the_whole_chain_every_period_once_it_is_exhausted(chain):
    with time_machine.travel(START, tick=False) as clock:
        alert = raise_high(chain.cast)
        for _ in range(3):  # Sam -> Sofia (+Clara) -> Clara -> everybody
            clock.shift(PAST_DEADLINE)
            alerts_escalate_due()
        everybody = {"Sam Supervisor", "Sofia Second", "Clara Clinician"}
        assert told(alert, 3) == everybody
        alert.refresh_from_db()
        assert alert.chain_exhausted_at == START + 3 * PAST_DEADLINE
        clock.shift(PAST_DEADLINE)
        alerts_escalate_due()
        assert told(alert, 4) == everybody
    assert AuditEntry.objects.filter(action="safety.alert.chain_exhausted").count() == 1
    assert AuditEntry.objects.get(action="safety.alert.escalated", payload__step=4).payload[
        "chain_exhausted"
    ]


def test_it_starts_with_the_person_on_duty(chain):
    cast = chain.cast
    on_duty_add(
        organisation=cast.org,
        country=Country.objects.get(code="DE"),
        user=chain.sofia,
        starts_at=START - dt.timedelta(hours=1),
        ends_at=START + dt.timedelta(hours=8),
        by=None,
    )
    with time_machine.travel(START, tick=False) as clock:
        alert = raise_high(cast)
        assert told(alert, 0) == {"Sofia Second"}
        clock.shift(PAST_DEADLINE)
        alerts_escalate_due()
        assert told(alert, 1) == {"Sam Supervisor", "Clara Clinician"}
    later = escalation_chain(site=cast.site, at=START + dt.timedelta(hours=9))
    assert later.people[0].full_name == "Sam Supervisor"  # the rota is over


def test_it_prefers_the_sites_rota_to_the_countrys(chain):
    cast = chain.cast
    de = Country.objects.get(code="DE")
    common = {"starts_at": START, "ends_at": START + dt.timedelta(hours=8), "by": None}
    on_duty_add(organisation=cast.org, country=de, user=chain.sofia, **common)
    on_duty_add(organisation=cast.org, site=cast.site, user=chain.clara, **common)
    people = escalation_chain(site=cast.site, at=START + dt.timedelta(hours=1)).people
    assert [p.full_name for p in people] == ["Clara Clinician", "Sam Supervisor", "Sofia Second"]


def test_it_falls_back_to_the_countrys_supervisors_without_a_configured_chain(cast):
    alert = raise_high(cast)
    assert told(alert, 0) == {"Sam Supervisor"}
    assert escalation_chain(site=cast.other_site).people == [cast.supervisor]  # org fallback


def test_it_escalates_a_low_alert_only_after_a_day(chain):
    with time_machine.travel(START, tick=False) as clock:
        raise_high(chain.cast, level="low")
        clock.shift(dt.timedelta(hours=23))
        assert alerts_escalate_due() == 0
        clock.shift(dt.timedelta(hours=1, minutes=1))
        assert alerts_escalate_due() == 1


def test_it_flags_an_alert_nobody_can_receive_and_tries_again_later(db):
    org = OrganisationFactory()
    site = SiteFactory(organisation=org)
    patient = PatientFactory(site=site)
    with time_machine.travel(START, tick=False) as clock:
        concern = concern_raise(
            patient=patient, level="high", observed="PHQ-9 item 9: 2", by=None,
            source="questionnaire",
        )  # fmt: skip
        alert = concern.alert
        assert alert.chain == [] and alert.chain_exhausted_at is not None
        assert AuditEntry.objects.filter(action="safety.alert.unrouted").exists()
        newcomer = staff(Role.SUPERVISOR, org, site, full_name="Nora Newcomer")
        clock.shift(PAST_DEADLINE)
        assert alerts_escalate_due() == 1
    assert told(alert, 1) == {"Nora Newcomer"}
    alert.refresh_from_db()
    assert alert.chain == [newcomer.pk]


def test_it_raises_a_concern_from_a_questionnaire_answer(chain):
    concern = concern_raise(
        patient=chain.cast.patient,
        level="high",
        observed="PHQ-9 item 9 answered 2 (more than half the days).",
        by=None,
        source="questionnaire",
    )
    assert concern.source == "questionnaire" and concern.raised_by is None
    assert told(concern.alert, 0) == {"Sam Supervisor"}
    entry = AuditEntry.objects.get(action="safety.concern.raised")
    assert entry.actor is None and entry.actor_label == "system"


def test_it_refuses_a_concern_about_a_patient_out_of_reach_in_the_service(chain):
    with pytest.raises(PermissionDenied):
        concern_raise(
            patient=chain.cast.other_patient, level="high", observed="x", by=chain.cast.counsellor
        )
    with pytest.raises(PermissionDenied):
        concern_raise(
            patient=chain.cast.patient, level="high", observed="x", by=chain.cast.coordinator
        )
    assert not Concern.objects.exists()


def test_it_runs_escalation_as_a_periodic_job(chain, monkeypatch):
    # The runner closes connections between jobs; inside a test transaction that would end it.
    monkeypatch.setattr("rarebridge.core.periodic.close_old_connections", lambda: None)
    with time_machine.travel(START, tick=False) as clock:
        alert = raise_high(chain.cast)
        clock.shift(PAST_DEADLINE)
        results = run_periodic_jobs()
    assert results["rarebridge.safety.services.alerts_escalate_due"] == 1
    assert told(alert, 1) == {"Sofia Second", "Clara Clinician"}


# --- the alert pages ------------------------------------------------------------------------


def test_it_lists_alerts_open_first_by_level_and_waiting_time(chain, as_user):
    cast = chain.cast
    with time_machine.travel(START, tick=False) as clock:
        low = raise_high(cast, level="low")
        clock.shift(dt.timedelta(minutes=5))
        immediate = raise_high(cast, level="immediate")
        high_old = raise_high(cast, level="high")
        clock.shift(dt.timedelta(minutes=5))
        high_new = raise_high(cast, level="high")
        closed = raise_high(cast, level="immediate")
        alert_close(alert=closed, by=chain.sam, outcome="resolved", note="Spoke with her.")
        clock.shift(dt.timedelta(minutes=1))
        html = as_user(chain.sam).get(reverse("safety:alerts")).content.decode()
    order = [immediate, high_old, high_new, low, closed]
    positions = [html.index(f'href="/safety/alerts/{a.pk}/"') for a in order]
    assert positions == sorted(positions)
    assert "11\xa0minutes" in html  # the low alert has waited longest


def test_it_refuses_the_alert_list_to_roles_without_the_right(chain, as_user):
    assert as_user(chain.cast.counsellor).get(reverse("safety:alerts")).status_code == 403
    assert as_user(chain.cast.outsider).get(reverse("safety:alerts")).status_code == 403
    assert as_user(chain.cast.patient.user).get(reverse("safety:alerts")).status_code == 404


def test_it_lists_alerts_with_a_constant_number_of_queries(chain, as_user):
    client = as_user(chain.sam)
    raise_high(chain.cast)
    client.get(reverse("safety:alerts"))  # warm session
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("safety:alerts"))
    for _ in range(15):
        raise_high(chain.cast, level="medium")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("safety:alerts"))
    assert len(many) == len(few)


def test_it_keeps_alerts_of_other_organisations_apart(chain, as_user):
    cast = chain.cast
    foreign_supervisor = staff(
        Role.SUPERVISOR, cast.outsider_patient.organisation, cast.outsider_patient.site
    )
    foreign = Alert.objects.get(
        concern=concern_raise(
            patient=cast.outsider_patient, level="high", observed="x", by=foreign_supervisor
        )
    )
    ours = raise_high(cast)
    html = as_user(chain.sam).get(reverse("safety:alerts")).content.decode()
    assert f"/safety/alerts/{ours.pk}/" in html and f"/safety/alerts/{foreign.pk}/" not in html
    url = reverse("safety:alert_detail", args=[foreign.pk])
    assert as_user(chain.sam).get(url).status_code == 404
    ack = reverse("safety:alert_acknowledge", args=[foreign.pk])
    assert as_user(chain.sam).post(ack).status_code == 404
    assert (
        as_user(foreign_supervisor).get(reverse("safety:alert_detail", args=[ours.pk])).status_code
        == 404
    )


def test_it_acknowledges_an_alert_from_the_page(chain, as_user):
    alert = raise_high(chain.cast)
    client = as_user(chain.sam)
    response = client.post(reverse("safety:alert_acknowledge", args=[alert.pk]))
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == chain.sam
    client.post(reverse("safety:alert_acknowledge", args=[alert.pk]))  # twice changes nothing
    response = as_user(chain.sofia).post(
        reverse("safety:alert_acknowledge", args=[alert.pk]), follow=True
    )
    assert "Sam Supervisor acknowledged this alert already." in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_by == chain.sam
    entry = AuditEntry.objects.get(action="safety.alert.acknowledged")
    assert entry.actor == chain.sam and entry.organisation_id == chain.cast.org.pk


def test_it_shows_the_alert_read_only_to_the_patients_counsellor(chain, as_user):
    alert = raise_high(chain.cast)
    client = as_user(chain.cast.counsellor)
    response = client.get(reverse("safety:alert_detail", args=[alert.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "Read only" in html
    assert reverse("safety:alert_acknowledge", args=[alert.pk]) not in html
    assert client.post(reverse("safety:alert_acknowledge", args=[alert.pk])).status_code == 403
    close = reverse("safety:alert_close", args=[alert.pk])
    assert client.post(close, {"outcome": "resolved", "note": "x"}).status_code == 403
    assert (
        as_user(chain.cast.coordinator)
        .get(reverse("safety:alert_detail", args=[alert.pk]))
        .status_code
        == 404
    )
    alert.refresh_from_db()
    assert alert.status == "open"
    assert AuditEntry.objects.filter(
        action="safety.alert.viewed", actor=chain.cast.counsellor
    ).exists()


def test_it_closes_an_alert_with_an_outcome(chain, as_user):
    alert = raise_high(chain.cast)
    response = as_user(chain.sofia).post(
        reverse("safety:alert_close", args=[alert.pk]),
        {"outcome": "referred", "note": "Referred to her GP; follow-up call on Friday."},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == "closed" and alert.outcome == "referred"
    assert alert.closed_by == chain.sofia and alert.acknowledged_by == chain.sofia
    assert alert.outcome_note.startswith("Referred to her GP")
    entry = AuditEntry.objects.get(action="safety.alert.closed")
    assert entry.payload == {"outcome": "referred"} and entry.actor == chain.sofia
    assert AuditEntry.objects.get(action="safety.alert.acknowledged").payload["on_close"]
    html = as_user(chain.sam).get(reverse("safety:alert_detail", args=[alert.pk])).content.decode()
    assert "Referred to her GP" in html and "Close the alert" not in html
    with time_machine.travel(alert.created_at + dt.timedelta(hours=2)):
        assert alerts_escalate_due() == 0


def test_it_needs_an_outcome_and_a_note_to_close(chain, as_user):
    alert = raise_high(chain.cast)
    response = as_user(chain.sam).post(
        reverse("safety:alert_close", args=[alert.pk]), {"outcome": "resolved", "note": ""}
    )
    assert response.status_code == 200 and "error-summary" in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == "open"
    assert not AuditEntry.objects.filter(action="safety.alert.closed").exists()


def test_it_shows_the_crisis_resources_of_the_patients_country(chain, as_user):
    cast = chain.cast
    organisation_wide(chain.sofia)
    organisation_wide(chain.sam)
    CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    CrisisResourceFactory(country_id="CA", name="Talk Suicide Canada")
    german = raise_high(cast)
    canadian = Alert.objects.get(
        concern=concern_raise(
            patient=cast.other_patient, level="high", observed="x", by=chain.sofia
        )
    )
    html = as_user(chain.sam).get(reverse("safety:alert_detail", args=[german.pk])).content.decode()
    assert "TelefonSeelsorge" in html and "Talk Suicide Canada" not in html
    assert "Crisis resources in Germany" in html
    html = (
        as_user(chain.sam).get(reverse("safety:alert_detail", args=[canadian.pk])).content.decode()
    )
    assert "Talk Suicide Canada" in html and "TelefonSeelsorge" not in html
    assert 'href="tel:911"' in html


# --- supervision ----------------------------------------------------------------------------


def supervision_data(cast: Cast, **overrides) -> dict:
    data = {
        "kind": "individual",
        "held_at": "2026-03-02T14:00",
        "topic": "Boundaries in week 3",
        "participants": [cast.counsellor.pk],
        "present": [cast.counsellor.pk],
        "notes": "Went through a difficult call.",
    }
    return {**data, **overrides}


def test_it_records_a_supervision_meeting_with_attendance(chain, as_user):
    cast = chain.cast
    second = staff(Role.COUNSELLOR, cast.org, cast.site, full_name="Cleo Counsellor")
    response = as_user(chain.sam).post(
        reverse("safety:supervision"),
        supervision_data(cast, kind="group", participants=[cast.counsellor.pk, second.pk]),
    )
    assert response.status_code == 302
    meeting = SupervisionMeeting.objects.get()
    assert meeting.supervisor == chain.sam and meeting.kind == "group"
    attendance = {a.counsellor.full_name: a.present for a in meeting.attendance.all()}
    assert attendance == {"Carla Counsellor": True, "Cleo Counsellor": False}
    assert meeting.held_at == dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC)  # Berlin time
    entry = AuditEntry.objects.get(action="safety.supervision.recorded")
    assert entry.actor == chain.sam and entry.payload["present"] == [cast.counsellor.pk]
    html = as_user(chain.sofia).get(reverse("safety:supervision")).content.decode()
    assert "Boundaries in week 3" in html and "Cleo Counsellor: absent" in html


def test_it_refuses_an_individual_meeting_with_two_counsellors(chain, as_user):
    cast = chain.cast
    second = staff(Role.COUNSELLOR, cast.org, cast.site, full_name="Cleo Counsellor")
    response = as_user(chain.sam).post(
        reverse("safety:supervision"),
        supervision_data(cast, participants=[cast.counsellor.pk, second.pk]),
    )
    assert response.status_code == 200 and "error-summary" in response.content.decode()
    assert not SupervisionMeeting.objects.exists()


def test_it_refuses_supervision_to_other_roles_and_organisations(chain, as_user):
    cast = chain.cast
    assert as_user(cast.counsellor).get(reverse("safety:supervision")).status_code == 403
    assert as_user(cast.patient.user).get(reverse("safety:supervision")).status_code == 404
    foreign = staff(Role.SUPERVISOR, cast.outsider_patient.organisation, None)
    as_user(chain.sam).post(reverse("safety:supervision"), supervision_data(cast))
    html = as_user(foreign).get(reverse("safety:supervision")).content.decode()
    assert "Boundaries in week 3" not in html and "Carla Counsellor" not in html
    response = as_user(foreign).post(reverse("safety:supervision"), supervision_data(cast))
    assert response.status_code == 200  # Carla is not a choice there
    assert SupervisionMeeting.objects.count() == 1


def test_it_lets_a_supervisor_put_someone_on_duty_and_alerts_go_there_first(
    cast, as_user, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from rarebridge.core.permissions import Role
    from rarebridge.notify.models import Message
    from rarebridge.safety.services import concern_raise
    from tests.conftest import staff as make_staff

    second = make_staff(Role.SUPERVISOR, cast.org, cast.site, full_name="Duty Supervisor")
    now = timezone.localtime()
    response = as_user(cast.supervisor).post(
        reverse("safety:escalation"),
        {
            "user": second.pk,
            "country": "DE",
            "starts_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        concern_raise(
            patient=cast.patient,
            level="high",
            observed="Talked about giving up",
            by=cast.counsellor,
        )
    first = Message.objects.filter(template_key="alert_raised", channel="email").values_list(
        "recipient", flat=True
    )
    assert list(first) == [second.pk]
    assert as_user(cast.counsellor).get(reverse("safety:escalation")).status_code == 403
    assert as_user(cast.patient.user).get(reverse("safety:escalation")).status_code == 404
