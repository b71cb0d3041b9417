"""Real concurrency on PostgreSQL: simultaneous randomisations in one stratum."""

from __future__ import annotations

import pytest
from django.db import connection

from rarebridge.trials.models import Allocation, StratumCounter
from rarebridge.trials.services import participant_randomise
from tests.test_concurrency import _race
from tests.trials_helpers import load_demo_study, ready_to_randomise

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_it_gives_simultaneous_randomisations_consecutive_slots(cast):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions need PostgreSQL")
    study = load_demo_study(cast)
    people = [
        ready_to_randomise(study, cast.site, cast.coordinator, email=f"race{n}@example.org")
        for n in range(4)
    ]
    results = _race(
        [lambda p=p: participant_randomise(participant=p, by=cast.coordinator) for p in people]
    )
    assert all(isinstance(r, Allocation) for r in results), results
    assert sorted(r.slot_index for r in results) == [1, 2, 3, 4]
    assert len({r.stratum for r in results}) == 1
    counter = StratumCounter.objects.get(study=study, stratum=results[0].stratum)
    assert counter.used == 4
