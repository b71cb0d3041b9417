import pytest
from django.contrib.auth.hashers import make_password

from rarebridge.accounts.services import role_assign, user_create
from rarebridge.care.demo import CLINIC_NAME, care_demo_load
from rarebridge.care.models import Clinic, ScheduledVisit
from rarebridge.core.permissions import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def hamburg(cast):
    password = make_password("x")
    nurse = user_create(
        email="care.coordinator@rarebridge.test",
        full_name="Sarah Campbell",
        language="en",
        time_zone="Europe/Berlin",
        password_hash=password,
    )
    role_assign(user=nurse, role=Role.CARE_COORDINATOR, organisation=cast.org, site=None, by=None)
    for n in range(1, 7):
        user = user_create(
            email=f"patient{n:02d}.de@rarebridge.test",
            full_name=f"Demo Patient {n}",
            language="de",
            time_zone="Europe/Berlin",
            password_hash=password,
        )
        role_assign(user=user, role=Role.PATIENT, organisation=cast.org, site=cast.site, by=None)
    return cast


def test_it_plans_a_two_day_demo_clinic_with_an_itinerary_for_each_family(hamburg):
    clinic = care_demo_load(time_limit_seconds=8)

    assert clinic is not None and clinic.has_timetable, clinic.explanations
    assert clinic.days.count() == 2
    assert clinic.professionals.count() >= 10
    for invitation in clinic.invitations.all():
        kinds = set(
            ScheduledVisit.objects.filter(invitation=invitation).values_list("kind", flat=True)
        )
        assert kinds >= {"appointment", "round_table"}
    # Running it again changes nothing.
    visits = ScheduledVisit.objects.count()
    assert care_demo_load() == clinic
    assert Clinic.objects.filter(name=CLINIC_NAME).count() == 1
    assert ScheduledVisit.objects.count() == visits


def test_it_stores_a_timetable_that_breaks_no_rule_and_reads_it_back_unchanged(hamburg):
    from rarebridge.care import planning
    from rarebridge.engines.clinic import SolveOptions, solve, solve_greedy
    from tests.engines.test_clinic_properties import assert_valid

    clinic = care_demo_load(time_limit_seconds=3)
    loaded = planning.load(clinic=clinic)
    model = planning.to_engine(loaded)
    assert len(model.days) == 2 and len(model.patients) == 6 and model.groups

    schedule = solve(
        clinic=model, options=SolveOptions(time_limit_seconds=5, num_workers=2, gap_limit=0.05)
    )
    assert_valid(model, schedule)
    greedy = solve_greedy(clinic=model)
    if greedy.has_timetable:
        assert schedule.objective <= greedy.objective
    planning.store(loaded, schedule=schedule)

    back = planning.previous_schedule(planning.load(clinic=clinic))

    def key(v):
        return (v.id, v.day, v.start, v.end, v.room, v.professionals)

    assert sorted(map(key, back.visits)) == sorted(map(key, schedule.visits))
