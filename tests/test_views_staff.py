import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rarebridge.core.audit import audit_log
from rarebridge.core.models import AuditEntry
from tests.factories import CrisisResourceFactory, PatientFactory


def test_it_shows_the_staff_home_to_staff_only(cast, as_user):
    assert as_user(cast.supervisor).get(reverse("staff:home")).status_code == 200
    assert as_user(cast.patient.user).get(reverse("staff:home")).status_code == 404
    assert as_user(cast.supervisor).post(reverse("staff:home")).status_code == 405


def test_it_lists_only_the_patients_in_reach(cast, as_user):
    html = as_user(cast.coordinator).get(reverse("staff:patients")).content.decode()
    assert cast.patient.code in html and cast.other_patient.code not in html
    html = as_user(cast.outsider).get(reverse("staff:patients")).content.decode()
    assert cast.patient.code not in html and cast.outsider_patient.code in html


def test_it_audits_which_patients_a_list_showed(cast, as_user):
    as_user(cast.coordinator).get(reverse("staff:patients"))
    entry = AuditEntry.objects.get(action="accounts.patient.listed")
    assert entry.payload["ids"] == [cast.patient.pk] and entry.actor == cast.coordinator


def test_it_lists_patients_with_a_constant_number_of_queries(cast, as_user):
    client = as_user(cast.supervisor)
    client.get(reverse("staff:patients"))  # warm session
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("staff:patients"))
    for _ in range(30):
        PatientFactory(site=cast.site)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("staff:patients"))
    assert len(many) == len(few)


def test_it_opens_a_patient_record_and_audits_the_view(cast, as_user):
    response = as_user(cast.counsellor).get(reverse("staff:patient_detail", args=[cast.patient.pk]))
    assert response.status_code == 200
    assert (
        AuditEntry.objects.filter(action="accounts.patient.viewed", actor=cast.counsellor).count()
        == 1
    )


def test_it_hides_a_patient_record_from_the_wrong_role_and_other_organisations(cast, as_user):
    url = reverse("staff:patient_detail", args=[cast.patient.pk])
    assert as_user(cast.outsider).get(url).status_code == 404
    assert as_user(cast.patient.user).get(url).status_code == 404
    other = reverse("staff:patient_detail", args=[cast.other_patient.pk])
    assert as_user(cast.counsellor).get(other).status_code == 404
    assert as_user(cast.counsellor).post(url).status_code == 405
    assert not AuditEntry.objects.filter(action="accounts.patient.viewed").exists()


def test_it_marks_read_only_access(cast, as_user):
    html = (
        as_user(cast.supervisor)
        .get(reverse("staff:patient_detail", args=[cast.patient.pk]))
        .content.decode()
    )
    assert "Read only" in html
    html = (
        as_user(cast.coordinator)
        .get(reverse("staff:patient_detail", args=[cast.patient.pk]))
        .content.decode()
    )
    assert "Read only" not in html


def test_it_browses_the_audit_log_with_filters(cast, as_user):
    audit_log(action="counselling.call.held", actor=cast.counsellor, obj=cast.patient)
    audit_log(action="trials.participant.randomised", actor=cast.coordinator, obj=cast.patient)
    audit_log(action="counselling.call.held", actor=cast.outsider, obj=cast.outsider_patient)
    client = as_user(cast.admin)
    html = client.get(reverse("staff:audit"), {"action": "counselling"}).content.decode()
    assert "counselling.call.held" in html and "trials.participant.randomised" not in html
    assert str(cast.outsider) not in html  # another organisation's entries never show
    html = client.get(reverse("staff:audit"), {"person": "Cora"}).content.decode()
    assert "trials.participant.randomised" in html and "counselling.call.held" not in html


def test_it_refuses_the_audit_log_to_roles_without_the_right(cast, as_user):
    assert as_user(cast.counsellor).get(reverse("staff:audit")).status_code == 403
    assert as_user(cast.patient.user).get(reverse("staff:audit")).status_code == 404
    assert as_user(cast.admin).post(reverse("staff:audit")).status_code == 405


def test_it_invites_a_patient_and_sends_the_link(
    cast, as_user, django_capture_on_commit_callbacks, mailoutbox
):
    client = as_user(cast.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("staff:invitations"),
            {
                "full_name": "Nina New",
                "email": "Nina@Example.org",
                "role": "patient",
                "site": cast.site.pk,
                "language": "de",
            },
        )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="accounts.invitation.sent")
    assert entry.actor == cast.coordinator and entry.organisation_id == cast.org.pk
    (mail,) = mailoutbox
    assert mail.to == ["nina@example.org"] and "/invite/" in mail.body
    assert "Nina New" in mail.body


def test_it_refuses_a_role_the_inviter_may_not_give(cast, as_user):
    response = as_user(cast.coordinator).post(
        reverse("staff:invitations"),
        {
            "full_name": "Sue Per",
            "email": "sue@example.org",
            "role": "supervisor",
            "site": cast.site.pk,
            "language": "en",
        },
    )
    assert response.status_code == 200
    assert "error-summary" in response.content.decode()
    assert 'value="Sue Per"' in response.content.decode()  # nothing typed is lost
    assert not AuditEntry.objects.filter(action="accounts.invitation.sent").exists()


def test_it_refuses_invitations_to_roles_without_the_right(cast, as_user):
    assert as_user(cast.counsellor).get(reverse("staff:invitations")).status_code == 403
    assert as_user(cast.patient.user).get(reverse("staff:invitations")).status_code == 404


def test_it_refuses_a_site_of_another_organisation(cast, as_user):
    from rarebridge.network.models import Site

    foreign = Site.objects.get(name="Elsewhere")
    response = as_user(cast.coordinator).post(
        reverse("staff:invitations"),
        {
            "full_name": "Nina",
            "email": "nina@example.org",
            "role": "patient",
            "site": foreign.pk,
            "language": "en",
        },
    )
    assert (
        response.status_code == 200
        and not AuditEntry.objects.filter(action="accounts.invitation.sent").exists()
    )


def test_it_lists_and_edits_crisis_resources_for_program_admins_only(cast, as_user):
    resource = CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge")
    url = reverse("staff:crisis_resource_edit", args=[resource.pk])
    assert as_user(cast.supervisor).get(reverse("staff:crisis_resources")).status_code == 200
    assert as_user(cast.supervisor).get(url).status_code == 403
    assert as_user(cast.patient.user).get(url).status_code == 404
    data = {
        "kind": "crisis_line",
        "name": "TelefonSeelsorge",
        "phone": "0800 111 0 222",
        "website": "www.telefonseelsorge.de",
        "hours": "always",
        "cost": "free",
        "position": 1,
        "last_checked": "2026-11-20",
        "is_active": "on",
    }
    # The change is previewed first; only the confirm step publishes it.
    assert as_user(cast.admin).post(url, {**data, "step": "preview"}).status_code == 200
    resource.refresh_from_db()
    assert resource.phone == "+498001110111"
    response = as_user(cast.admin).post(url, {**data, "step": "confirm"})
    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.phone == "+498001110222"
    assert resource.website == "https://www.telefonseelsorge.de"
    entry = AuditEntry.objects.get(action="network.crisis_resource.changed")
    assert "phone" in entry.payload["fields"]


def test_it_shows_the_counsellor_their_caseload_only(cast, as_user):
    html = as_user(cast.counsellor).get(reverse("counsellor:home")).content.decode()
    assert cast.patient.code in html and cast.other_patient.code not in html
    assert as_user(cast.patient.user).get(reverse("counsellor:home")).status_code == 404
    assert as_user(cast.supervisor).get(reverse("counsellor:home")).status_code == 404
    assert as_user(cast.counsellor).post(reverse("counsellor:home")).status_code == 405


def test_it_shows_the_patient_home_to_patients_only(cast, as_user):
    assert as_user(cast.patient.user).get(reverse("patient:home")).status_code == 200
    assert as_user(cast.counsellor).get(reverse("patient:home")).status_code == 404
    assert as_user(cast.patient.user).post(reverse("patient:home")).status_code == 405
    assert Client().get(reverse("patient:home")).status_code == 302


@pytest.mark.parametrize(
    "name",
    ["staff:home", "staff:patients", "staff:audit", "staff:invitations", "staff:crisis_resources"],
)
def test_it_sends_staff_without_mfa_to_enrol_first(cast, as_user, name):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=cast.admin).delete()
    response = as_user(cast.admin).get(reverse(name))
    assert response.status_code == 302 and response.url == reverse("mfa_activate_totp")
