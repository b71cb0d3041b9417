import zoneinfo

from django.core.management import call_command
from django.utils import timezone

from rarebridge.accounts.models import PatientProfile, RoleAssignment, User
from rarebridge.core.permissions import STAFF_ROLES
from rarebridge.demo.management.commands.seed_demo import PATIENTS_PER_SITE
from rarebridge.network.models import CrisisResource, Site

# The demo world's own patients; the study and clinic demos add a few more (patient91… and on).
DEMO_WORLD_PATIENT = r"^patient([0-3][0-9]|40)\."


def _snapshot():
    return (
        User.objects.count(),
        RoleAssignment.objects.count(),
        PatientProfile.objects.count(),
        CrisisResource.objects.count(),
        sorted(User.objects.values_list("email", "full_name", "language")),
    )


def test_it_builds_the_demo_world_and_running_it_again_changes_nothing(db):
    from allauth.mfa.models import Authenticator

    call_command("seed_demo")
    first = _snapshot()
    call_command("seed_demo")
    assert _snapshot() == first
    assert sorted(Site.objects.values_list("name", "time_zone")) == [
        ("Debrecen", "Europe/Budapest"),
        ("Ghent", "Europe/Brussels"),
        ("Hamburg", "Europe/Berlin"),
        ("Toronto", "America/Toronto"),
        ("Warsaw", "Europe/Warsaw"),
    ]
    # The demo world's own patients (the study and clinic demos add a few more of their own).
    assert (
        PatientProfile.objects.filter(user__email__regex=DEMO_WORLD_PATIENT).count()
        == 5 * PATIENTS_PER_SITE
    )
    for site in Site.objects.all():
        roles = sorted(
            RoleAssignment.objects.filter(site=site)
            .exclude(role="patient")
            .values_list("role", flat=True)
        )
        assert roles == ["counsellor", "counsellor", "site_coordinator", "supervisor"]
    staff = User.objects.filter(role_assignments__role__in=list(STAFF_ROLES)).distinct()
    assert staff.count() == 23
    assert Authenticator.objects.filter(type="totp").count() == staff.count()
    # Every country's emergency number is there and comes first.
    assert CrisisResource.objects.filter(kind="emergency").count() == 5
    # Numbers stored so that they dial; hours and cost said, never assumed.
    assert set(CrisisResource.objects.filter(country="CA").values_list("phone", flat=True)) == {
        "911",
        "988",
    }
    assert CrisisResource.objects.get(country="PL", phone="116123").hours == "unknown"
    assert CrisisResource.objects.get(country="BE", phone="+3226484014").cost == "standard"
    assert set(
        User.objects.filter(email__startswith="patient").values_list("language", flat=True)
    ) == {"en", "de", "pl", "nl", "hu", "fr"}


def test_it_gives_the_demo_patients_weeks_calls_and_notes(db):
    from collections import Counter

    from rarebridge.counselling.models import Call, CallNote
    from rarebridge.programs.models import Enrolment

    call_command("seed_demo")
    world = Enrolment.objects.filter(patient__user__email__regex=DEMO_WORLD_PATIENT)
    assert world.count() == 5 * 30
    # Patients at every week, and a few finished: weeks ago on each patient's own calendar
    # (near midnight UTC the sites' dates differ).
    now = timezone.now()
    weeks_ago = {
        (now.astimezone(zoneinfo.ZoneInfo(e.patient.user.time_zone)).date() - e.start_date).days
        for e in world.select_related("patient__user")
    }
    assert weeks_ago == {7 * n for n in range(7)}
    statuses = Counter(Call.objects.values_list("status", flat=True))
    assert statuses["held"] and statuses["missed"] and statuses["booked"]
    assert (
        CallNote.objects.filter(signed_at__isnull=False).count()
        == statuses["held"] + statuses["missed"]
    )
