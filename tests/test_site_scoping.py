"""Site staff see and act on their own site only.

Every staff action and list of the reach rule (docs/security.md, "Reach") is run, from one
table, by the Hamburg coordinator or supervisor (whose site the objects belong to: it works)
and by the Toronto coordinator or supervisor of the same organisation (it is refused: 404 for
an object, or the object is simply absent from the list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from rarebridge.accounts.models import Invitation, User
from rarebridge.accounts.selectors import site_ids_for, sites_for
from rarebridge.accounts.services import invitation_create
from rarebridge.core.permissions import Perm, Role
from rarebridge.counselling.models import (
    Assignment,
    Certification,
    CounsellorProfile,
    TrainingAttendance,
)
from rarebridge.counselling.selectors import training_modules
from rarebridge.counselling.services import (
    availability_rule_add,
    certification_grant_unchecked,
    counsellor_profile_upsert,
    roleplay_sign_off,
    training_attendance_record,
    training_curriculum_load,
)
from rarebridge.safety.models import Alert
from rarebridge.safety.services import concern_raise
from tests.conftest import Cast, client_for, staff
from tests.factories import PatientFactory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TRAINING = Path(settings.BASE_DIR) / "content" / "training" / "peer-counsellor-core.json"
PROGRAM = Path(settings.BASE_DIR) / "content" / "programs" / "act-six-weeks" / "1"


@dataclass
class World:
    cast: Cast
    own: dict[str, User]  # Hamburg's coordinator and supervisor
    other: dict[str, User]  # Toronto's coordinator and supervisor
    profile: CounsellorProfile  # Carla, counsellor at Hamburg, certified
    trainee: CounsellorProfile  # Nora, counsellor at Hamburg, trained, not yet certified
    invitation: Invitation  # into Hamburg
    alert: Alert  # about Anna, a Hamburg patient
    request: pytest.FixtureRequest


@pytest.fixture
def world(cast, request):
    with time_machine.travel(NOW, tick=False):
        training_curriculum_load(path=TRAINING)
        profile = counsellor_profile_upsert(
            user=cast.counsellor, organisation_id=cast.org.pk, country_id="DE", languages=["de"]
        )
        certification_grant_unchecked(counsellor=profile, by=None)
        nora = staff(Role.COUNSELLOR, cast.org, cast.site, full_name="Nora Trainee")
        trainee = counsellor_profile_upsert(
            user=nora, organisation_id=cast.org.pk, country_id="DE", languages=["de"]
        )
        for module in training_modules().filter(is_refresher=False):
            training_attendance_record(
                counsellor=trainee,
                module=module,
                attended_on=date(2026, 2, 1),
                by=cast.supervisor,
            )
        roleplay_sign_off(counsellor=trainee, results={"opens-call": True}, by=cast.supervisor)
        invitation, _token = invitation_create(
            by=cast.coordinator,
            organisation=cast.org,
            role=Role.PATIENT,
            email="hanna@example.org",
            full_name="Hanna Hamburg",
            language="de",
            site=cast.site,
        )
        concern = concern_raise(
            patient=cast.patient, level="high", observed="No way forward.", by=cast.counsellor
        )
    return World(
        cast=cast,
        own={"coordinator": cast.coordinator, "supervisor": cast.supervisor},
        other={
            "coordinator": staff(
                Role.SITE_COORDINATOR, cast.org, cast.other_site, full_name="Tom Toronto"
            ),
            "supervisor": staff(
                Role.SUPERVISOR, cast.org, cast.other_site, full_name="Tia Toronto"
            ),
        },
        profile=profile,
        trainee=trainee,
        invitation=invitation,
        alert=Alert.objects.get(concern=concern),
        request=request,
    )


def _waiting_patient(w: World):
    """A Hamburg patient enrolled in the program and waiting for a counsellor."""
    from rarebridge.programs.services import enrolment_start, program_version_load

    version, _ = program_version_load(path=PROGRAM)
    patient = PatientFactory(site=w.cast.site, user__full_name="Wanda Waiting")
    enrolment_start(patient=patient, version=version, start_date=date(2026, 3, 2))
    for weekday in range(5):
        availability_rule_add(
            counsellor=w.profile, weekday=weekday, start=time(9), end=time(18), by=None
        )
    return patient


# --- the actions: each returns True when it worked, False when it was refused -----------------


def deactivate_counsellor(w: World, user: User) -> bool:
    response = client_for(user).post(
        reverse("staff:counsellor_deactivate", args=[w.profile.pk]), {"reason": "moved"}
    )
    w.profile.refresh_from_db()
    assert response.status_code == (302 if not w.profile.is_active else 404)
    return not w.profile.is_active


def deactivate_counsellor_service(w: World, user: User) -> bool:
    from rarebridge.counselling.services import counsellor_deactivate

    try:
        counsellor_deactivate(profile=w.profile, by=user, reason="moved")
    except PermissionDenied:
        assert Assignment.objects.filter(counsellor=w.cast.counsellor, ended_at=None).exists()
        return False
    return True


def record_training(w: World, user: User) -> bool:
    module = training_modules().filter(is_refresher=False).first()
    TrainingAttendance.objects.filter(counsellor=w.profile).delete()
    response = client_for(user).post(
        reverse("staff:counsellor_training", args=[w.profile.pk]),
        {"action": "attend", "module": module.pk},
    )
    recorded = TrainingAttendance.objects.filter(counsellor=w.profile, module=module).exists()
    assert response.status_code == (302 if recorded else 404)
    return recorded


def open_training_page(w: World, user: User) -> bool:
    response = client_for(user).get(reverse("staff:counsellor_training", args=[w.profile.pk]))
    assert response.status_code in (200, 404)
    return response.status_code == 200


def certify(w: World, user: User) -> bool:
    response = client_for(user).post(
        reverse("staff:counsellor_training", args=[w.trainee.pk]), {"action": "certify"}
    )
    certified = Certification.objects.filter(counsellor=w.trainee).exists()
    assert response.status_code == (302 if certified else 404)
    return certified


def list_counsellors(w: World, user: User) -> bool:
    response = client_for(user).get(reverse("staff:counsellors"))
    assert response.status_code == 200
    return "Nora Trainee" in response.content.decode()


def invite_into_site(w: World, user: User) -> bool:
    data = {
        "full_name": "Paul Patient",
        "email": "paul@example.org",
        "role": Role.PATIENT.value,
        "site": w.cast.site.pk,
        "language": "de",
    }
    response = client_for(user).post(reverse("staff:invitations"), data)
    sent = Invitation.objects.filter(email="paul@example.org").exists()
    assert response.status_code == (302 if sent else 200)  # refused: Hamburg is no choice
    if not sent:  # and the service refuses it too, whatever a form lets through
        with pytest.raises(PermissionDenied):
            invitation_create(
                by=user,
                organisation=w.cast.org,
                role=Role.PATIENT,
                email="paul@example.org",
                full_name="Paul Patient",
                language="de",
                site=w.cast.site,
            )
    return sent


def list_invitations(w: World, user: User) -> bool:
    response = client_for(user).get(reverse("staff:invitations"))
    assert response.status_code == 200
    return "hanna@example.org" in response.content.decode()


def revoke_invitation(w: World, user: User) -> bool:
    response = client_for(user).post(reverse("staff:invitation_revoke", args=[w.invitation.pk]))
    w.invitation.refresh_from_db()
    revoked = w.invitation.revoked_at is not None
    assert response.status_code == (302 if revoked else 404)
    return revoked


def open_patient_record(w: World, user: User) -> bool:
    response = client_for(user).get(reverse("staff:patient_detail", args=[w.cast.patient.pk]))
    assert response.status_code in (200, 404)
    return response.status_code == 200


def list_patients(w: World, user: User) -> bool:
    response = client_for(user).get(reverse("staff:patients"))
    assert response.status_code == 200
    return w.cast.patient.code in response.content.decode()


def matching_page(w: World, user: User) -> bool:
    with time_machine.travel(NOW, tick=False):
        patient = _waiting_patient(w)
        html = client_for(user).get(reverse("staff:matching")).content.decode()
    # Toronto's people see neither Hamburg's waiting patient nor its counsellor suggested.
    assert (patient.code in html) == ("Carla Counsellor" in html)
    return patient.code in html


def accept_match(w: World, user: User) -> bool:
    with time_machine.travel(NOW, tick=False):
        patient = _waiting_patient(w)
        response = client_for(user).post(
            reverse("staff:matching"),
            # "Match anyway" (no proposed weekly time needed): reach is what is tested here.
            {
                "action": "override",
                "reason": "Asked for this counsellor",
                "patient": patient.pk,
                "counsellor": w.profile.pk,
            },
        )
    matched = Assignment.objects.filter(patient=patient, ended_at=None).exists()
    assert response.status_code == (302 if matched else 404)
    return matched


def list_alerts(w: World, user: User) -> bool:
    response = client_for(user).get(reverse("safety:alerts"))
    assert response.status_code == 200
    return w.cast.patient.code in response.content.decode()


def open_alert(w: World, user: User) -> bool:
    response = client_for(user).get(reverse("safety:alert_detail", args=[w.alert.pk]))
    assert response.status_code in (200, 404)
    return response.status_code == 200


def supervision_dashboard(w: World, user: User) -> bool:
    response = client_for(user).get(reverse("staff:supervision"))
    assert response.status_code == 200
    return "Carla Counsellor" in response.content.decode()


def open_counsellor_calls(w: World, user: User) -> bool:
    response = client_for(user).get(reverse("safety:counsellor_calls", args=[w.profile.pk]))
    assert response.status_code in (200, 404)
    return response.status_code == 200


def open_study_participant(w: World, user: User) -> bool:
    from tests.trials_helpers import load_demo_study, screen_in

    study = load_demo_study(w.cast)
    participant = screen_in(study, w.cast.site, email="pia@example.org")
    client = client_for(user)
    listed = (
        participant.patient.code
        in client.get(reverse("trials_staff:participants", args=[study.slug])).content.decode()
    )
    response = client.get(reverse("trials_staff:participant", args=[study.slug, participant.pk]))
    assert response.status_code in (200, 404)
    assert listed == (response.status_code == 200)
    return listed


C, S = "coordinator", "supervisor"
ACTIONS = [  # (action, the roles that do it)
    (deactivate_counsellor, [C, S]),
    (deactivate_counsellor_service, [C, S]),
    (record_training, [C, S]),
    (open_training_page, [C, S]),
    (certify, [C, S]),
    (list_counsellors, [C, S]),
    (invite_into_site, [C]),
    (list_invitations, [C]),
    (revoke_invitation, [C]),
    (open_patient_record, [C, S]),
    (list_patients, [C, S]),
    (matching_page, [C, S]),
    (accept_match, [C, S]),
    (list_alerts, [S]),
    (open_alert, [S]),
    (supervision_dashboard, [S]),
    (open_counsellor_calls, [S]),
    (open_study_participant, [C]),
]
CASES = [
    pytest.param(action, role, reach, id=f"{action.__name__}-{role}-{reach}")
    for action, roles in ACTIONS
    for role in roles
    for reach in ("own_site", "other_site")
]


@pytest.mark.parametrize(("action", "role", "reach"), CASES)
def test_it_lets_site_staff_act_on_their_own_site_only(world, action, role, reach):
    user = world.own[role] if reach == "own_site" else world.other[role]
    assert action(world, user) is (reach == "own_site")


# --- the reach itself ----------------------------------------------------------------------


def test_it_gives_site_roles_their_site_and_organisation_wide_ones_every_site(cast):
    hamburg, toronto = cast.site.pk, cast.other_site.pk
    assert site_ids_for(cast.coordinator, Perm.PATIENT_VIEW) == {hamburg}
    assert site_ids_for(cast.supervisor, Perm.PATIENT_VIEW) == {hamburg}
    for person in (cast.trial_manager, cast.care_coordinator, cast.admin):
        assert site_ids_for(person) == {hamburg, toronto}
    assert site_ids_for(cast.outsider) == {cast.outsider.active_roles()[0].site_id}
    assert list(sites_for(cast.coordinator, Perm.PEOPLE_INVITE)) == [cast.site]
    # A perm the role does not carry reaches nothing.
    assert site_ids_for(cast.coordinator, Perm.ALERT_HANDLE) == frozenset()


def test_it_widens_a_supervisor_to_the_organisation_by_the_flag(cast, as_user):
    cast.supervisor.role_assignments.update(organisation_wide=True)
    response = as_user(cast.supervisor).get(
        reverse("staff:patient_detail", args=[cast.other_patient.pk])
    )
    assert response.status_code == 200
    assert site_ids_for(User.objects.get(pk=cast.supervisor.pk)) == {
        cast.site.pk,
        cast.other_site.pk,
    }
    # Never beyond the organisation.
    outside = as_user(cast.supervisor).get(
        reverse("staff:patient_detail", args=[cast.outsider_patient.pk])
    )
    assert outside.status_code == 404


def test_it_shows_each_person_their_reach_on_the_staff_home(cast, as_user):
    html = as_user(cast.coordinator).get(reverse("staff:home")).content.decode()
    assert "Your reach: Hamburg" in html
    html = as_user(cast.trial_manager).get(reverse("staff:home")).content.decode()
    assert "Your reach: the whole organisation" in html


def test_a_hamburg_supervisor_no_longer_opens_toronto_records(cast, as_user):
    response = as_user(cast.supervisor).get(
        reverse("staff:patient_detail", args=[cast.other_patient.pk])
    )
    assert response.status_code == 404


# --- the invitation's language -------------------------------------------------------------


def test_the_acceptance_page_and_welcome_speak_the_invitations_language(cast):
    from django.test import Client

    _invitation, token = invitation_create(
        by=cast.coordinator,
        organisation=cast.org,
        role=Role.PATIENT,
        email="piotr@example.org",
        full_name="Piotr Nowak",
        language="pl",
        site=cast.site,
    )
    url = reverse("public:invitation_accept", args=[token])
    browser = Client(HTTP_ACCEPT_LANGUAGE="de")  # a German browser
    page = browser.get(url)
    assert page.headers["Content-Language"] == "pl" and 'lang="pl"' in page.content.decode()
    response = browser.post(
        url, {"password1": "violet kettle harbour", "password2": "violet kettle harbour"}
    )
    assert response.status_code == 302
    welcome = [str(m) for m in response.wsgi_request._messages]
    assert welcome == ["Witamy w RareBridge."]
    assert User.objects.get(email="piotr@example.org").language == "pl"


def test_the_acceptance_page_follows_the_language_the_person_switched_to(cast):
    from django.test import Client

    _invitation, token = invitation_create(
        by=cast.coordinator,
        organisation=cast.org,
        role=Role.PATIENT,
        email="piotr@example.org",
        full_name="Piotr Nowak",
        language="pl",
        site=cast.site,
    )
    browser = Client()
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = browser.get(reverse("public:invitation_accept", args=[token]))
    assert page.headers["Content-Language"] == "fr"


# --- the safety net reaches beyond the site --------------------------------------------------


def test_whoever_the_chain_tells_may_open_and_acknowledge_the_alert(cast, as_user):
    """Toronto has nobody who handles alerts, so its patient's alert falls back to the Hamburg
    supervisor: being told is reach enough for that alert (never for the patient's record)."""
    with time_machine.travel(NOW, tick=False):
        concern = concern_raise(
            patient=cast.other_patient,
            level="high",
            observed="PHQ-9 item 9: 2",
            by=None,
            source="questionnaire",
        )
    alert = Alert.objects.get(concern=concern)
    assert cast.supervisor.pk in alert.chain
    told = as_user(cast.supervisor)
    assert told.get(reverse("safety:alert_detail", args=[alert.pk])).status_code == 200
    assert cast.other_patient.code in told.get(reverse("safety:alerts")).content.decode()
    response = told.post(reverse("safety:alert_acknowledge", args=[alert.pk]))
    alert.refresh_from_db()
    assert response.status_code == 302 and alert.acknowledged_by == cast.supervisor
    patient_page = told.get(reverse("staff:patient_detail", args=[cast.other_patient.pk]))
    assert patient_page.status_code == 404
    untold = as_user(staff(Role.SUPERVISOR, cast.org, cast.site, full_name="Una Untold"))
    assert untold.get(reverse("safety:alert_detail", args=[alert.pk])).status_code == 404
