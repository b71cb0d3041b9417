"""The clinic plan's quality in words, in the reader's language, and the solver's work limit."""

import pytest
from django.urls import reverse

from rarebridge.care import planning
from rarebridge.care.services import clinic_plan
from tests.care_fixtures import small_clinic

pytestmark = pytest.mark.django_db


def test_the_solver_is_limited_by_work_from_the_setting_with_a_generous_wall_cap(settings):
    settings.CLINIC_SOLVER_WORK_LIMIT = 3.0
    settings.CLINIC_SOLVER_WALL_CAP_SECONDS = 60
    options = planning.solve_options(time_limit_seconds=10.0)
    assert options.deterministic and options.deterministic_time_limit == 3.0
    assert options.time_limit_seconds == 60


def test_it_says_how_good_the_plan_is_in_german(cast, as_user):
    small = small_clinic(cast)
    clinic = clinic_plan(clinic=small.clinic, by=cast.care_coordinator, time_limit_seconds=5)
    assert clinic.summary["proven_optimal"] and clinic.reproducible is True
    cast.care_coordinator.language = "de"
    cast.care_coordinator.save()
    page = (
        as_user(cast.care_coordinator)
        .get(reverse("care:clinic", args=[clinic.pk]), HTTP_ACCEPT_LANGUAGE="de")
        .content.decode()
    )
    wait = clinic.summary["max_wait_minutes"]
    expected = (
        "Keine Familie wartet zwischen den Terminen"
        if wait == 0
        else f"Jede Familie wartet höchstens {wait} Minute"
    )
    assert expected in page
    assert "Dieser Plan ist nachweislich der bestmögliche." in page
    assert "Leerlaufzeit der Fachleute" in page
