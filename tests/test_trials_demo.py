"""The demo study: every stage present, and loading twice changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import time_machine

from rarebridge.accounts.services import role_assign
from rarebridge.core.permissions import Role
from rarebridge.programs.models import Enrolment
from rarebridge.programs.services import program_version_load
from rarebridge.trials.demo import trials_demo_load
from rarebridge.trials.models import Allocation, Participant, ScreeningRecord
from tests.factories import CountryFactory, OrganisationFactory, SiteFactory, UserFactory
from tests.trials_helpers import PROGRAM_DIR

SITES = [
    ("DE", "Hamburg", "Europe/Berlin"),
    ("CA", "Toronto", "America/Toronto"),
    ("BE", "Ghent", "Europe/Brussels"),
    ("PL", "Warsaw", "Europe/Warsaw"),
    ("HU", "Debrecen", "Europe/Budapest"),
]


def _sites() -> None:
    org = OrganisationFactory(slug="rarebridge-consortium")
    for code, name, tz in SITES:
        site = SiteFactory(
            organisation=org,
            country=CountryFactory(code=code, default_time_zone=tz),
            name=name,
            city=name,
            time_zone=tz,
        )
        role_assign(
            user=UserFactory(), role=Role.SITE_COORDINATOR, organisation=org, site=site, by=None
        )
    program_version_load(path=PROGRAM_DIR)


def test_it_loads_participants_at_every_stage_once(db):
    _sites()
    study = trials_demo_load()
    excluded = ScreeningRecord.objects.filter(study=study, eligible=False)
    assert excluded.count() == 15 and all(r.reasons for r in excluded)
    statuses = set(Participant.objects.filter(study=study).values_list("status", flat=True))
    assert statuses == {"eligible", "consented", "randomised"}
    assert set(Allocation.objects.filter(study=study).values_list("arm", flat=True)) == {
        "intervention",
        "control",
    }
    before = (Participant.objects.count(), ScreeningRecord.objects.count())
    trials_demo_load()
    assert (Participant.objects.count(), ScreeningRecord.objects.count()) == before


def test_it_loads_late_in_the_evening_across_a_clock_change(db):
    # 23:30 in Hamburg; seven weeks earlier Europe was on summer time, so going back 49
    # 24-hour days lands on the next local day, after the program's moved start date.
    _sites()
    with time_machine.travel(datetime(2026, 11, 25, 22, 30, tzinfo=UTC)):
        study = trials_demo_load()

    for allocation in Allocation.objects.filter(study=study).select_related("participant"):
        enrolment = Enrolment.objects.filter(patient=allocation.participant.patient).first()
        if enrolment is not None:
            zone = ZoneInfo(allocation.participant.patient.user.time_zone)
            assert enrolment.start_date == allocation.randomised_at.astimezone(zone).date()
