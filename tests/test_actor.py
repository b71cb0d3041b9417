"""The actor: who acts, from which address and under which request id, and the one access
helper that decides 404 versus 403."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.urls import reverse

from rarebridge.accounts.models import PatientProfile
from rarebridge.accounts.services import invitation_create
from rarebridge.core.access import get_for_actor
from rarebridge.core.actor import Actor, as_actor, client_ip
from rarebridge.core.audit import audit_log
from rarebridge.core.models import AuditEntry
from rarebridge.core.permissions import Role


def test_it_takes_the_socket_address_when_no_proxy_is_trusted(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client_ip(request) == "198.51.100.7"


def test_it_takes_the_address_the_trusted_proxy_appended_not_what_the_client_wrote(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote "1.2.3.4" itself; the proxy appended the real address.
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.23")
    assert client_ip(request) == "198.51.100.23"


@pytest.mark.parametrize("forwarded", ["unknown", "", "<script>", "999.1.1.1"])
def test_it_records_no_address_rather_than_text_that_is_no_address(rf, settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) is None


def test_every_audit_entry_takes_person_address_and_request_id_from_the_actor(cast):
    actor = Actor(user=cast.coordinator, ip="198.51.100.9", request_id="abc123")
    entry = audit_log(action="test.thing.done", actor=actor, obj=cast.patient)
    assert (entry.actor_id, entry.ip_address, entry.request_id, entry.organisation_id) == (
        cast.coordinator.pk,
        "198.51.100.9",
        "abc123",
        cast.org.pk,
    )


def test_a_user_or_nobody_becomes_an_actor(cast):
    assert as_actor(cast.coordinator).user == cast.coordinator
    assert as_actor(None).is_system
    assert str(as_actor(None)) == "system"
    assert as_actor(cast.coordinator).organisation_ids == [cast.org.pk]


def test_it_answers_each_request_with_its_id_and_audits_under_it(cast, client):
    client.force_login(cast.patient.user)
    response = client.get("/me/", HTTP_X_REQUEST_ID="req-42")
    assert response["X-Request-ID"] == "req-42"
    response = client.get("/me/")
    assert len(response["X-Request-ID"]) == 32


def test_get_for_actor_hides_what_is_out_of_reach_and_forbids_what_is_read_only(cast):
    readable = PatientProfile.objects.filter(pk=cast.patient.pk)
    assert get_for_actor(readable, by=cast.coordinator, pk=cast.patient.pk) == cast.patient
    with pytest.raises(Http404):
        get_for_actor(readable, by=cast.coordinator, pk=cast.patient.pk + 999)
    with pytest.raises(Http404):
        get_for_actor(readable, by=cast.coordinator, pk="not-a-number")
    with pytest.raises(PermissionDenied):
        get_for_actor(readable, by=cast.coordinator, pk=cast.patient.pk, allowed=lambda p: False)


def test_get_for_actor_audits_the_read_when_asked(cast):
    readable = PatientProfile.objects.filter(pk=cast.patient.pk)
    get_for_actor(readable, by=cast.coordinator, pk=cast.patient.pk, audit="test.patient.viewed")
    entry = AuditEntry.objects.get(action="test.patient.viewed")
    assert (entry.actor_id, entry.object_id) == (cast.coordinator.pk, str(cast.patient.pk))


def test_a_page_read_is_audited_with_the_readers_address_and_request_id(cast, as_user):
    as_user(cast.counsellor).get(
        reverse("staff:patient_detail", args=[cast.patient.pk]),
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_REQUEST_ID="req-7",
    )
    entry = AuditEntry.objects.get(action="accounts.patient.viewed")
    assert (entry.actor_id, entry.ip_address, entry.request_id) == (
        cast.counsellor.pk,
        "203.0.113.7",
        "req-7",
    )


def test_accepting_an_invitation_is_audited_as_the_new_person_from_the_visitors_address(cast):
    _invitation, token = invitation_create(
        by=cast.coordinator,
        organisation=cast.org,
        role=Role.PATIENT,
        email="new@example.org",
        full_name="Nina New",
        language="nl",
        site=cast.site,
    )
    Client().post(
        reverse("public:invitation_accept", args=[token]),
        {"password1": "violet kettle harbour", "password2": "violet kettle harbour"},
        REMOTE_ADDR="203.0.113.8",
    )
    for action in ("accounts.invitation.accepted", "accounts.role.assigned"):
        entry = AuditEntry.objects.filter(action=action).latest("pk")
        assert entry.actor.email == "new@example.org"
        assert entry.ip_address == "203.0.113.8"
