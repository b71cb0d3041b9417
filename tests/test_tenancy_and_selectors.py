import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django_scopes import ScopeError, scope

from rarebridge.accounts.models import PatientProfile
from rarebridge.accounts.selectors import patient_get_for_user, patients_for_user
from rarebridge.core.models import AuditEntry
from rarebridge.core.permissions import Perm


def test_it_refuses_an_unscoped_query_on_a_tenant_model(cast):
    with scope(), pytest.raises(ScopeError):
        list(PatientProfile.objects.all())


def test_it_never_shows_another_organisations_patients_inside_a_scope(cast):
    with scope(organisation=[cast.org.pk]):
        codes = set(PatientProfile.objects.values_list("code", flat=True))
    assert cast.patient.code in codes
    assert cast.outsider_patient.code not in codes


def test_it_gives_a_counsellor_only_assigned_patients(cast):
    assert list(patients_for_user(user=cast.counsellor)) == [cast.patient]


def test_it_gives_a_site_coordinator_only_their_site(cast):
    assert set(patients_for_user(user=cast.coordinator)) == {cast.patient}


def test_it_gives_a_supervisor_their_site_and_the_organisation_only_by_the_flag(cast):
    assert set(patients_for_user(user=cast.supervisor)) == {cast.patient}
    cast.supervisor.role_assignments.update(organisation_wide=True)
    supervisor = type(cast.supervisor).objects.get(pk=cast.supervisor.pk)
    assert set(patients_for_user(user=supervisor)) == {cast.patient, cast.other_patient}


def test_it_gives_a_patient_and_a_program_admin_no_patient_list(cast):
    assert not patients_for_user(user=cast.patient.user).exists()
    assert not patients_for_user(user=cast.admin).exists()


def test_it_answers_404_for_a_patient_out_of_reach(cast):
    with pytest.raises(Http404):
        patient_get_for_user(user=cast.counsellor, id=cast.other_patient.pk)
    with pytest.raises(Http404):
        patient_get_for_user(user=cast.outsider, id=cast.patient.pk)


def test_it_answers_403_for_read_only_access(cast):
    with pytest.raises(PermissionDenied):
        patient_get_for_user(user=cast.supervisor, id=cast.patient.pk, need=Perm.PATIENT_CHANGE)
    # The coordinator may change patients of their site.
    assert (
        patient_get_for_user(user=cast.coordinator, id=cast.patient.pk, need=Perm.PATIENT_CHANGE)
        == cast.patient
    )


def test_it_audits_every_read_of_an_identifiable_record(cast):
    patient_get_for_user(user=cast.counsellor, id=cast.patient.pk)
    entry = AuditEntry.objects.get(action="accounts.patient.viewed")
    assert entry.actor == cast.counsellor
    assert entry.object_id == str(cast.patient.pk)
    assert entry.organisation_id == cast.org.pk


def test_it_stops_seeing_a_patient_when_the_assignment_ends(cast):
    from django.utils import timezone

    cast.patient.assignments.update(ended_at=timezone.now())
    assert not patients_for_user(user=cast.counsellor).exists()
