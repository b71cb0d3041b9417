"""Care app: the demo clinic (two days, six families, 14 professionals) from the database
through the solver and back, and the family's itinerary as PDF.

Builds a small world in a temporary SQLite database (Hamburg site, the demo care coordinator,
six patients), then ``care_demo_load``. The engine alone is measured in bench_clinic.py.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import Benchmark

_tmp = tempfile.mkdtemp(prefix="rarebridge-bench-care-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")
os.environ.setdefault("RAREBRIDGE_VAR_DIR", _tmp)
NEEDS_DJANGO = True
_state: dict = {}


def _world():
    if "clinic" in _state:
        return _state["clinic"]
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django_scopes import scopes_disabled

    from rarebridge.accounts.services import role_assign, user_create
    from rarebridge.care.demo import care_demo_load
    from rarebridge.core.permissions import Role
    from rarebridge.network.services import country_upsert, organisation_upsert, site_upsert

    call_command("migrate", verbosity=0)
    with scopes_disabled():
        de = country_upsert(
            code="DE",
            names={"en": "Germany"},
            emergency_number="112",
            default_time_zone="Europe/Berlin",
        )
        org = organisation_upsert(slug="bench", name="Bench", kind="research_consortium")
        site = site_upsert(
            organisation=org, country=de, name="Hamburg", city="Hamburg", time_zone="Europe/Berlin"
        )
        password = make_password("bench")
        nurse = user_create(
            email="care.coordinator@rarebridge.test",
            full_name="Sarah Campbell",
            language="en",
            time_zone="Europe/Berlin",
            password_hash=password,
        )
        role_assign(user=nurse, role=Role.CARE_COORDINATOR, organisation=org, site=None, by=None)
        for n in range(1, 7):
            user = user_create(
                email=f"patient{n:02d}.de@rarebridge.test",
                full_name=f"Patient {n}",
                language="de",
                time_zone="Europe/Berlin",
                password_hash=password,
            )
            role_assign(user=user, role=Role.PATIENT, organisation=org, site=site, by=None)
        _state["clinic"] = care_demo_load(time_limit_seconds=8)
    return _state["clinic"]


def _setup():
    return _world()


def _adapt(clinic) -> None:
    from django_scopes import scopes_disabled

    from rarebridge.care import planning

    with scopes_disabled():
        planning.to_engine(planning.load(clinic=clinic))


def _plan(clinic) -> None:
    from django_scopes import scopes_disabled

    from rarebridge.care.services import clinic_plan

    with scopes_disabled():
        clinic = clinic_plan(clinic=clinic, by=None, time_limit_seconds=8)
    PLAN.notes.update(
        status=clinic.status, objective=clinic.objective, bound=clinic.bound, gap=clinic.gap
    )


def _pdf(clinic) -> None:
    from django_scopes import scopes_disabled

    from rarebridge.care.documents import itinerary_pdf

    with scopes_disabled():
        itinerary_pdf(invitation=clinic.invitations.first(), language="de")


PLAN = Benchmark(
    name="demo clinic: DB -> solver -> DB (8 s limit)",
    setup=_setup,
    run=_plan,
    repeat=3,
    goal_seconds=10.0,
)
BENCHMARKS = [
    Benchmark(
        name="demo clinic: load rows and build the engine's clinic",
        setup=_setup,
        run=_adapt,
        repeat=20,
        goal_seconds=0.1,
    ),
    PLAN,
    Benchmark(
        name="family itinerary PDF (WeasyPrint, German)",
        setup=_setup,
        run=_pdf,
        repeat=5,
        goal_seconds=1.0,
    ),
]
