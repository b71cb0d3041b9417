"""The demo study: every stage present, and loading twice changes nothing."""

from __future__ import annotations

from rarebridge.accounts.services import role_assign
from rarebridge.core.permissions import Role
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


def test_it_loads_participants_at_every_stage_once(db):
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
