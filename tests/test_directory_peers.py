"""The peer finder: small-count suppression, double opt-in, messages, blocking, withdrawal,
reports and moderation, and the organisations shown at the end of the program."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rarebridge.core.models import AuditEntry
from rarebridge.core.permissions import Role
from rarebridge.directory.models import ContactRequest, PeerProfile, PeerReport
from rarebridge.directory.selectors import (
    closing_resources_for,
    peer_counts_for,
    reports_for_moderator,
    suppressed,
)
from rarebridge.directory.services import (
    PeerUnavailable,
    contact_message_send,
    contact_request_respond,
    contact_request_send,
    contact_share_set,
    finder_join,
    finder_withdraw,
    patient_condition_set,
    peer_report,
    report_acknowledge,
    report_close,
)
from rarebridge.notify.models import Message
from rarebridge.programs.services import enrolment_start, program_version_load
from tests import directory_fixtures as fx
from tests.conftest import staff
from tests.directory_fixtures import (
    AIH,
    PBC,
    PSC,
    condition,
    findable,
    peers,
)
from tests.factories import CountryFactory, PatientFactory, SiteFactory

# The shared fixtures (pytest finds fixtures by name in the test module).
_fresh_catalogue = fx._fresh_catalogue
catalogue = fx.catalogue
directory = fx.directory


PROGRAM = Path(settings.BASE_DIR) / "content" / "programs" / "act-six-weeks" / "1"


def count_of(user, code=PSC):
    (row,) = [r for r in peer_counts_for(by=user) if r.condition.orphacode == code]
    return row


@pytest.fixture
def anna(cast, catalogue):
    """The cast's patient, with PSC, findable as "Anna"."""
    return findable(cast.patient, PSC, alias="Anna")


@pytest.fixture
def marta(catalogue):
    """A patient with PSC in Poland, of another organisation, findable as "Marta"."""
    site = SiteFactory(country=CountryFactory(code="PL"), name="Warsaw", city="Warsaw")
    patient = PatientFactory(site=site, user__email="marta@example.org", user__phone="+48600100200")
    return findable(patient, PSC, languages=("pl", "en"), alias="Marta")


def connect(requester, recipient_user):
    contact = contact_request_send(
        requester=requester, scope="condition", note="Hello!", by=requester.patient.user
    )
    return contact_request_respond(contact=contact, accept=True, by=recipient_user)


# --- counts ---------------------------------------------------------------------------------


def test_it_never_shows_fewer_than_five(cast, as_user, catalogue):
    patient_condition_set(patient=cast.patient, condition=condition(PSC), by=cast.patient.user)
    peers(3, PSC)
    assert suppressed(3).shown is None and suppressed(5).shown == 5
    row = count_of(cast.patient.user)
    assert row.same.is_small and row.same.shown is None  # the true number is not even kept
    html = as_user(cast.patient.user).get(reverse("peers:home")).content.decode()
    assert "fewer than 5" in html and "<strong>3</strong>" not in html
    peers(2, PSC)
    assert count_of(cast.patient.user).same.shown == 5
    html = as_user(cast.patient.user).get(reverse("peers:home")).content.decode()
    assert "<strong>5</strong>" in html


def test_it_counts_only_findable_people_who_share_a_language(cast, catalogue):
    patient_condition_set(patient=cast.patient, condition=condition(PSC), by=None)
    peers(5, PSC, languages=("pl",))
    peers(4, AIH)  # another condition
    assert count_of(cast.patient.user).same.shown is None
    english = peers(5, PSC)
    assert count_of(cast.patient.user).same.shown == 5
    finder_withdraw(profile=english[0], by=english[0].patient.user)
    assert count_of(cast.patient.user).same.shown is None


def test_it_counts_the_wider_group_among_people_who_agreed_to_it(cast, catalogue):
    patient_condition_set(patient=cast.patient, condition=condition(PSC), by=None)
    peers(3, AIH, scope=PeerProfile.Scope.GROUP)
    peers(4, PBC, scope=PeerProfile.Scope.CONDITION)  # findable for PBC only
    peers(2, PSC)
    row = count_of(cast.patient.user)
    assert row.same.shown is None and row.group.shown == 5  # 3 with AIH + 2 with PSC
    assert row.group_names[0] == "Rare autoimmune liver disease"


# --- double opt-in ---------------------------------------------------------------------------


def test_it_shares_nothing_identifying_until_both_accept(cast, as_user, anna, marta):
    contact = contact_request_send(
        requester=anna, scope="condition", note="Diagnosed last year.", by=cast.patient.user
    )
    assert contact.status == "pending" and contact.recipient == marta
    anna_page = as_user(cast.patient.user).get(reverse("peers:contact", args=[contact.pk]))
    marta_client = as_user(marta.patient.user)
    marta_page = marta_client.get(reverse("peers:contact", args=[contact.pk])).content.decode()
    assert "Marta" not in anna_page.content.decode() and "Poland" not in anna_page.content.decode()
    assert "Anna" not in marta_page and "Schmidt" not in marta_page and "Germany" not in marta_page
    assert "Diagnosed last year." in marta_page and "Primary sclerosing cholangitis" in marta_page
    (notice,) = Message.objects.filter(recipient=marta.patient.user, channel="inapp")
    assert "Anna" not in notice.body and f"/me/peers/contacts/{contact.pk}/" in notice.body
    with pytest.raises(PeerUnavailable):
        contact_message_send(contact=contact, body="Hi", by=cast.patient.user)

    assert marta_client.post(reverse("peers:respond", args=[contact.pk]), {"answer": "accept"})
    contact.refresh_from_db()
    assert contact.status == "accepted"
    anna_page = as_user(cast.patient.user).get(reverse("peers:contact", args=[contact.pk]))
    html = anna_page.content.decode()
    assert "You and Marta" in html and "Poland" in html
    assert "marta@example.org" not in html and "+48600100200" not in html
    marta_page = marta_client.get(reverse("peers:contact", args=[contact.pk])).content.decode()
    assert "You and Anna" in marta_page and "anna@example.org" not in marta_page
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"directory.contact.requested", "directory.contact.accepted"} <= actions


def test_it_exchanges_messages_inside_rarebridge_and_shows_details_only_if_shared(
    cast, as_user, anna, marta
):
    contact = connect(anna, marta.patient.user)
    client = as_user(cast.patient.user)
    response = client.post(reverse("peers:message", args=[contact.pk]), {"body": "Hello Marta!"})
    assert response.status_code == 302
    notice = Message.objects.get(
        recipient=marta.patient.user, template_key="peers_message_received"
    )
    assert "Hello Marta" not in notice.body  # the message stays inside RareBridge
    refused = client.post(
        reverse("peers:message", args=[contact.pk]), {"body": "Mail me: anna@example.org"}
    )
    assert refused.status_code == 422 and "choose to share" in refused.content.decode()
    contact_share_set(contact=contact, email=True, phone=False, by=cast.patient.user)
    contact_message_send(
        contact=contact, body="Mail me: anna (at) example.org", by=cast.patient.user
    )
    marta_page = (
        as_user(marta.patient.user)
        .get(reverse("peers:contact", args=[contact.pk]))
        .content.decode()
    )
    assert "Hello Marta!" in marta_page and "anna@example.org" in marta_page
    anna_page = client.get(reverse("peers:contact", args=[contact.pk])).content.decode()
    assert "marta@example.org" not in anna_page  # Marta has not chosen to share


def test_it_keeps_contact_details_out_of_the_first_note(anna, marta):
    for note in ("Call me on +49 170 1234567", "write to anna@example.org", "see www.example.org"):
        with pytest.raises(ValidationError) as problem:
            contact_request_send(requester=anna, scope="condition", note=note, by=anna.patient.user)
        assert "note" in problem.value.message_dict
    assert not ContactRequest.objects.exists()


def test_it_declines_without_sharing_anything(cast, as_user, anna, marta):
    contact = contact_request_send(requester=anna, scope="condition", by=cast.patient.user)
    as_user(marta.patient.user).post(
        reverse("peers:respond", args=[contact.pk]), {"answer": "decline"}
    )
    contact.refresh_from_db()
    assert contact.status == "declined"
    html = (
        as_user(cast.patient.user).get(reverse("peers:contact", args=[contact.pk])).content.decode()
    )
    assert "could not connect this time" in html and "Marta" not in html
    # Asking again does not go back to the person who declined.
    again = contact_request_send(requester=anna, scope="condition", by=cast.patient.user)
    assert again.status == "waiting" and again.recipient is None


def test_it_waits_for_a_match_and_asks_the_next_person_who_fits(cast, anna, catalogue):
    contact = contact_request_send(requester=anna, scope="condition", by=cast.patient.user)
    assert contact.status == "waiting"
    polish_only = peers(1, PSC, languages=("pl",))[0]  # shares no language with Anna
    contact.refresh_from_db()
    assert contact.status == "waiting"
    newcomer = peers(1, PSC)[0]
    contact.refresh_from_db()
    assert contact.status == "pending" and contact.recipient == newcomer != polish_only


def test_it_prefers_the_same_condition_and_spreads_requests(cast, anna, catalogue):
    (related,) = peers(1, AIH, scope=PeerProfile.Scope.GROUP)
    first, second = peers(2, PSC)
    one = contact_request_send(requester=anna, scope="group", by=cast.patient.user)
    assert one.recipient == first
    (other_seeker,) = peers(1, PSC)
    two = contact_request_send(requester=other_seeker, scope="group", by=other_seeker.patient.user)
    assert two.recipient == anna  # nobody is waiting on Anna yet; first has one request
    three = contact_request_send(requester=anna, scope="group", by=cast.patient.user)
    assert three.recipient == second
    four = contact_request_send(requester=anna, scope="group", by=cast.patient.user)
    assert four.recipient in (related, other_seeker)


def test_it_limits_open_requests(anna, catalogue):
    for _ in range(3):
        contact_request_send(requester=anna, scope="condition", by=anna.patient.user)
    with pytest.raises(ValidationError):
        contact_request_send(requester=anna, scope="condition", by=anna.patient.user)


def test_it_lets_only_the_patient_give_their_own_consent(cast, catalogue):
    patient_condition_set(patient=cast.patient, condition=condition(PSC), by=cast.coordinator)
    with pytest.raises(PermissionDenied):
        finder_join(
            patient=cast.patient,
            condition=condition(PSC),
            languages=["en"],
            alias="Anna",
            scope="condition",
            by=cast.coordinator,
        )
    with pytest.raises(PermissionDenied):
        patient_condition_set(patient=cast.patient, condition=condition(AIH), by=cast.outsider)
    with pytest.raises(ValidationError):
        finder_join(
            patient=cast.patient,
            condition=condition(AIH),  # not one of her conditions
            languages=["en"],
            alias="Anna",
            scope="condition",
            by=cast.patient.user,
        )


# --- blocking and withdrawal -----------------------------------------------------------------


def test_it_blocks_and_never_matches_the_two_again(cast, as_user, anna, marta):
    contact = connect(anna, marta.patient.user)
    assert (
        as_user(marta.patient.user).get(reverse("peers:block", args=[contact.pk])).status_code
        == 405
    )
    as_user(marta.patient.user).post(reverse("peers:block", args=[contact.pk]))
    contact.refresh_from_db()
    assert contact.status == "closed" and contact.closed_reason == "blocked"
    with pytest.raises(PeerUnavailable):
        contact_message_send(contact=contact, body="Are you there?", by=cast.patient.user)
    again = contact_request_send(requester=anna, scope="condition", by=cast.patient.user)
    assert again.status == "waiting"  # Marta is the only other person, and she blocked Anna
    assert AuditEntry.objects.filter(action="directory.peer.blocked").exists()


def test_it_takes_a_person_out_of_the_finder_at_once_when_they_withdraw(cast, as_user, anna, marta):
    waiting = contact_request_send(requester=anna, scope="condition", by=cast.patient.user)
    assert waiting.recipient == marta
    response = as_user(marta.patient.user).post(reverse("peers:leave"))
    assert response.status_code == 302
    marta.refresh_from_db()
    waiting.refresh_from_db()
    assert marta.status == "withdrawn" and not marta.languages.exists()
    assert waiting.status == "closed" and waiting.closed_reason == "recipient_left"
    assert count_of(cast.patient.user).same.shown is None
    html = (
        as_user(cast.patient.user).get(reverse("peers:contact", args=[waiting.pk])).content.decode()
    )
    assert "has since left the peer finder" in html
    assert contact_request_send(requester=anna, scope="condition", by=cast.patient.user).status == (
        "waiting"
    )
    assert AuditEntry.objects.filter(action="directory.peer.withdrawn").exists()


def test_it_fails_politely_when_the_person_who_asked_has_withdrawn(cast, as_user, anna, marta):
    contact = contact_request_send(requester=anna, scope="condition", by=cast.patient.user)
    finder_withdraw(profile=anna, by=cast.patient.user)
    with pytest.raises(PeerUnavailable) as polite:
        contact_request_respond(contact=contact, accept=True, by=marta.patient.user)
    assert "left the peer finder" in polite.value.messages[0]
    response = as_user(marta.patient.user).post(
        reverse("peers:respond", args=[contact.pk]), {"answer": "accept"}, follow=True
    )
    assert response.status_code == 200
    assert "left the peer finder" in response.content.decode()
    contact.refresh_from_db()
    assert contact.status == "closed"


def test_it_lets_a_person_come_back_after_leaving(cast, anna):
    finder_withdraw(profile=anna, by=cast.patient.user)
    again = finder_join(
        patient=cast.patient,
        condition=condition(PSC),
        languages=["en", "de"],
        alias="Anna S",
        scope="group",
        by=cast.patient.user,
    )
    assert again.pk == anna.pk and again.is_active and sorted(again.language_codes) == ["de", "en"]


# --- reports and moderation ------------------------------------------------------------------


def test_it_sends_reports_to_the_moderators_of_the_reported_persons_organisation(
    cast, as_user, anna, catalogue
):
    otto = findable(cast.outsider_patient, PSC, alias="Otto")
    contact = connect(otto, cast.patient.user)
    report = peer_report(
        contact=contact, reason="harassment", details="Rude messages.", by=otto.patient.user
    )
    assert report.organisation == cast.org and report.reported == anna
    ack = Message.objects.get(recipient=otto.patient.user, template_key="peers_report_received")
    assert "received" in ack.body
    admin = as_user(cast.admin)
    assert admin.get(reverse("directory_admin:reports")).status_code == 200
    detail = reverse("directory_admin:report", args=[report.pk])
    assert "Rude messages." in admin.get(detail).content.decode()
    assert AuditEntry.objects.filter(action="directory.report.viewed", actor=cast.admin).exists()
    other_admin = staff(Role.PROGRAM_ADMIN, cast.outsider_patient.organisation, None)
    assert as_user(other_admin).get(detail).status_code == 404
    assert list(reports_for_moderator(by=other_admin)) == []
    assert as_user(cast.coordinator).get(detail).status_code == 403
    assert as_user(cast.patient.user).get(detail).status_code == 404

    admin.post(reverse("directory_admin:report_acknowledge", args=[report.pk]))
    report.refresh_from_db()
    assert report.status == "acknowledged" and report.acknowledged_by == cast.admin
    assert Message.objects.filter(template_key="peers_report_acknowledged").count() == 1
    admin.post(
        reverse("directory_admin:report_close", args=[report.pk]),
        {"outcome": "removed", "note": "Warned before; removed."},
    )
    report.refresh_from_db()
    anna.refresh_from_db()
    contact.refresh_from_db()
    assert report.status == "closed" and report.outcome == "removed"
    assert anna.status == "suspended" and contact.status == "closed"
    assert Message.objects.filter(template_key="peers_report_closed").count() == 1
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "directory.report.raised",
        "directory.report.acknowledged",
        "directory.report.closed",
    } <= actions


def test_it_refuses_moderation_to_anyone_else(cast, anna, marta):
    contact = connect(anna, marta.patient.user)
    report = peer_report(contact=contact, reason="other", by=anna.patient.user)
    assert report.organisation_id == marta.organisation_id
    for person in (cast.admin, cast.supervisor, cast.patient.user):  # not Marta's organisation
        with pytest.raises(PermissionDenied):
            report_acknowledge(report=report, by=person)
        with pytest.raises(PermissionDenied):
            report_close(report=report, outcome="no_action", note="", by=person)
    assert PeerReport.objects.get().status == "open"


# --- the pages -----------------------------------------------------------------------------


def test_it_shows_a_contact_only_to_its_two_people(cast, as_user, anna, marta):
    contact = contact_request_send(requester=anna, scope="condition", by=cast.patient.user)
    url = reverse("peers:contact", args=[contact.pk])
    assert as_user(cast.patient.user).get(url).status_code == 200
    assert as_user(marta.patient.user).get(url).status_code == 200
    assert as_user(cast.other_patient.user).get(url).status_code == 404
    assert as_user(cast.outsider_patient.user).get(url).status_code == 404
    assert as_user(cast.counsellor).get(url).status_code == 404  # patients only
    assert Client().get(url).status_code == 302
    assert (
        as_user(marta.patient.user).get(reverse("peers:respond", args=[contact.pk])).status_code
        == 405
    )


def test_it_walks_a_patient_through_condition_join_and_ask(cast, as_user, catalogue):
    client = as_user(cast.patient.user)
    assert client.get(reverse("peers:join")).status_code == 302  # no condition yet
    html = client.get(
        reverse("peers:conditions"), {"q": "sklerosierende cholangitis"}
    ).content.decode()
    assert 'value="171"' in html
    assert client.post(reverse("peers:conditions"), {"condition": "171"}).status_code == 302
    assert client.post(reverse("peers:conditions"), {"condition": "424242"}).status_code == 302
    assert client.get(reverse("peers:join")).status_code == 200
    refused = client.post(
        reverse("peers:join"),
        {
            "condition": condition(PSC).pk,
            "scope": "condition",
            "languages": ["en"],
            "alias": "Anna",
        },
    )
    assert refused.status_code == 422  # consent not ticked
    joined = client.post(
        reverse("peers:join"),
        {
            "condition": condition(PSC).pk,
            "scope": "condition",
            "languages": ["en", "de"],
            "alias": "Anna",
            "consent": "on",
        },
    )
    assert joined.status_code == 302 and PeerProfile.objects.get().alias == "Anna"
    asked = client.post(reverse("peers:ask"), {"scope": "condition", "note": "Hi!"})
    contact = ContactRequest.objects.get()
    assert asked.status_code == 302 and asked.url == reverse("peers:contact", args=[contact.pk])
    assert "Nobody is free right now" in client.get(asked.url).content.decode()


def test_it_shows_organisations_and_groups_from_week_six(cast, as_user, directory):
    patient_condition_set(patient=cast.patient, condition=condition(PSC), by=None)
    version, _ = program_version_load(path=PROGRAM)
    enrolment = enrolment_start(
        patient=cast.patient, version=version, start_date=timezone.localdate() - timedelta(days=14)
    )
    assert closing_resources_for(by=cast.patient.user).open is False
    html = as_user(cast.patient.user).get(reverse("peers:organisations")).content.decode()
    assert "From week 6 of your program" in html
    enrolment.start_date = timezone.localdate() - timedelta(days=36)
    enrolment.save()
    closing = closing_resources_for(by=cast.patient.user)
    names = [entry.name for entry in closing.entries]
    assert closing.open
    assert "International PSC Patient Network (demo)" in names  # PSC, in English, every country
    assert "Lebergruppe Norddeutschland (Demo)" not in names  # German only; Anna reads English
    assert "Polskie Stowarzyszenie Chorych na PSC i PBC (demo)" not in names  # Poland
    html = as_user(cast.patient.user).get(reverse("peers:organisations")).content.decode()
    assert "International PSC Patient Network (demo)" in html


def test_it_cancels_a_request_that_has_no_answer_yet(cast, as_user, anna, marta):
    contact = contact_request_send(requester=anna, scope="condition", by=cast.patient.user)
    cancel = reverse("peers:cancel", args=[contact.pk])
    assert as_user(marta.patient.user).post(cancel).status_code == 302  # not hers to cancel
    contact.refresh_from_db()
    assert contact.status == "pending"
    as_user(cast.patient.user).post(cancel)
    contact.refresh_from_db()
    assert contact.status == "cancelled"


# --- the demo --------------------------------------------------------------------------------


def test_it_loads_the_demo_and_loading_again_changes_nothing(db):
    from django.core.management import call_command

    from rarebridge.conditions.models import Condition, PatientCondition
    from rarebridge.directory.models import DirectoryEntry

    site = SiteFactory()
    for n in range(1, 15):
        PatientFactory(site=site, user__email=f"patient{n:02d}.de@rarebridge.test")

    def snapshot():
        return (
            Condition.objects.count(),
            DirectoryEntry.objects.count(),
            PatientCondition.objects.count(),
            PeerProfile.objects.count(),
            ContactRequest.objects.filter(status="accepted").count(),
        )

    call_command("load_directory", "--demo", verbosity=0)
    first = snapshot()
    assert first[0] == 30 and first[1] == 19 and first[2] == 14
    assert first[3] == 10 and first[4] == 1  # two in three joined; patient 07 has a contact
    call_command("load_directory", "--demo", verbosity=0)
    assert snapshot() == first
