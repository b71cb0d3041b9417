"""Real concurrency on PostgreSQL: two people acting on the same thing at the same moment."""

import itertools
import threading
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django_scopes import scopes_disabled

from rarebridge.counselling.models import Call
from rarebridge.counselling.services import (
    SlotTaken,
    availability_rule_add,
    call_book,
    certification_grant_unchecked,
    counsellor_profile_upsert,
)
from rarebridge.programs.services import enrolment_start, program_version_load
from tests.factories import PatientFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SOURCE = Path(settings.BASE_DIR) / "content" / "programs" / "act-six-weeks" / "1"


def _race(workers):
    """Start every worker at the same instant; return what each returned or raised."""
    barrier = threading.Barrier(len(workers))
    results = [None] * len(workers)

    def run(index, work):
        try:
            with scopes_disabled():
                barrier.wait()
                results[index] = work()
        except Exception as exc:  # the point is to see which one lost
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_it_lets_exactly_one_of_two_simultaneous_bookings_of_a_slot_through(cast):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions need PostgreSQL")
    version, _ = program_version_load(path=SOURCE)
    profile = counsellor_profile_upsert(
        user=cast.counsellor, organisation_id=cast.org.pk, country_id="DE", languages=["de"]
    )
    for weekday in range(7):
        availability_rule_add(
            counsellor=profile, weekday=weekday, start=time(8), end=time(20), by=cast.counsellor
        )
    certification_grant_unchecked(counsellor=profile, by=None)
    first = enrolment_start(patient=cast.patient, version=version, start_date=date.today())
    second = enrolment_start(
        patient=PatientFactory(site=cast.site), version=version, start_date=date.today()
    )
    tomorrow = datetime.now(UTC).date() + timedelta(days=2)
    slot = datetime.combine(tomorrow, time(10, 0), tzinfo=UTC)
    results = _race(
        [
            lambda: call_book(
                enrolment=first, counsellor=profile, starts_at=slot, week=1, by=cast.patient.user
            ),
            lambda: call_book(
                enrolment=second, counsellor=profile, starts_at=slot, week=1, by=cast.coordinator
            ),
        ]
    )
    booked = [r for r in results if isinstance(r, Call)]
    refused = [r for r in results if isinstance(r, SlotTaken)]
    assert len(booked) == 1 and len(refused) == 1, results
    assert refused[0].alternatives and slot not in refused[0].alternatives
    with scopes_disabled():
        assert Call.objects.filter(starts_at=slot, status="booked").count() == 1


def test_it_lets_only_one_of_two_simultaneous_overlapping_bookings_through(cast):
    """Rules 09:00-10:00 and 09:15-10:15; two patients book 09:00 and 09:15 at the same moment.
    The starts differ, so the unique constraint cannot tell; the counsellor's row lock does."""
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions need PostgreSQL")
    version, _ = program_version_load(path=SOURCE)
    profile = counsellor_profile_upsert(
        user=cast.counsellor, organisation_id=cast.org.pk, country_id="DE", languages=["de"]
    )
    for weekday in range(7):
        for start, end in ((time(9), time(10)), (time(9, 15), time(10, 15))):
            availability_rule_add(
                counsellor=profile, weekday=weekday, start=start, end=end, by=cast.counsellor
            )
    certification_grant_unchecked(counsellor=profile, by=None)
    enrolments = [
        enrolment_start(patient=patient, version=version, start_date=date.today())
        for patient in (
            cast.patient,
            PatientFactory(site=cast.site),
        )
    ]
    zone = zoneinfo.ZoneInfo(cast.counsellor.time_zone)
    for attempt in range(5):
        day = datetime.now(UTC).date() + timedelta(days=2 + attempt)
        starts = [
            datetime.combine(day, time(9, 0), tzinfo=zone),
            datetime.combine(day, time(9, 15), tzinfo=zone),
        ]
        results = _race(
            [
                lambda e=e, s=s, b=b, w=attempt + 1: call_book(
                    enrolment=e, counsellor=profile, starts_at=s, week=w, by=b
                )
                for e, s, b in zip(
                    enrolments, starts, (cast.patient.user, cast.coordinator), strict=True
                )
            ]
        )
        booked = [r for r in results if isinstance(r, Call)]
        refused = [r for r in results if isinstance(r, SlotTaken)]
        assert len(booked) == 1 and len(refused) == 1, (attempt, results)
    with scopes_disabled():
        calls = list(Call.objects.filter(counsellor=profile).order_by("starts_at"))
    assert all(a.ends_at <= b.starts_at for a, b in itertools.pairwise(calls))
