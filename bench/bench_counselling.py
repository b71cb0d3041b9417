"""Counselling at scale: free slots among 500 counsellors, the matching adapter's weekly slots
for them, and 10,000 due reminders.

Builds its own SQLite database in a temporary folder with bulk inserts (the demo is too small).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import Benchmark

_tmp = tempfile.mkdtemp(prefix="rarebridge-bench-counselling-")
os.environ["DATABASE_URL"] = f"sqlite:///{_tmp}/bench.sqlite3"
os.environ["RAREBRIDGE_VAR_DIR"] = _tmp
os.environ["TASKS_BACKEND"] = (
    "immediate"  # deliver in-process: the time includes delivery to the outbox
)
NEEDS_DJANGO = True
COUNSELLORS = 500
REMINDER_CALLS = 5_000  # two people each: 10,000 reminders
_world: dict = {}


def _build():
    if _world:
        return _world
    from datetime import UTC, datetime, time, timedelta

    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django_scopes import scopes_disabled

    from rarebridge.accounts.models import PatientProfile, RoleAssignment, User
    from rarebridge.counselling.models import (
        Assignment,
        AvailabilityRule,
        Call,
        Certification,
        CounsellorProfile,
    )
    from rarebridge.network.models import Country, Organisation, Site
    from rarebridge.notify.templates_store import load_message_templates
    from rarebridge.programs.models import Enrolment
    from rarebridge.programs.services import program_version_load

    call_command("migrate", verbosity=0)
    load_message_templates()
    with scopes_disabled():
        version, _ = program_version_load(
            path=Path(__file__).resolve().parent.parent / "content/programs/act-six-weeks/1"
        )
        country = Country.objects.create(
            code="DE",
            names={"en": "Germany"},
            emergency_number="112",
            default_time_zone="Europe/Berlin",
        )
        org = Organisation.objects.create(name="Bench", slug="bench", kind="research_consortium")
        site = Site.objects.create(
            organisation=org,
            country=country,
            name="Hamburg",
            city="Hamburg",
            time_zone="Europe/Berlin",
        )
        password = make_password("bench")
        users = User.objects.bulk_create(
            [
                User(
                    email=f"c{i}@bench.test",
                    full_name=f"Counsellor {i}",
                    password=password,
                    time_zone="Europe/Berlin",
                )
                for i in range(COUNSELLORS)
            ]
            + [
                User(
                    email=f"p{i}@bench.test",
                    full_name=f"Patient {i}",
                    password=password,
                    time_zone="America/Toronto",
                )
                for i in range(REMINDER_CALLS)
            ]
        )
        counsellor_users, patient_users = users[:COUNSELLORS], users[COUNSELLORS:]
        RoleAssignment.objects.bulk_create(
            [
                RoleAssignment(user=u, role="counsellor", organisation=org, site=site)
                for u in counsellor_users
            ]
        )
        profiles = CounsellorProfile.objects.bulk_create(
            [
                CounsellorProfile(organisation=org, user=u, country=country, languages=["de", "en"])
                for u in counsellor_users
            ]
        )
        now = datetime.now(UTC)
        Certification.objects.bulk_create(
            [
                Certification(
                    organisation=org,
                    counsellor=p,
                    granted_by=p.user,
                    granted_at=now - timedelta(days=1),
                    valid_until=now + timedelta(days=300),
                )
                for p in profiles
            ]
        )
        AvailabilityRule.objects.bulk_create(
            [
                AvailabilityRule(
                    organisation=org,
                    counsellor=p,
                    weekday=d,
                    start=time(9 + (i % 6)),
                    end=time(13 + (i % 6)),
                )
                for i, p in enumerate(profiles)
                for d in (0, 2, 4)
            ]
        )
        patients = PatientProfile.objects.bulk_create(
            [
                PatientProfile(
                    user=u, organisation=org, site=site, country=country, code=f"RB-B-{i:05d}"
                )
                for i, u in enumerate(patient_users)
            ]
        )
        Assignment.objects.bulk_create(
            [
                Assignment(
                    organisation=org,
                    counsellor=counsellor_users[i % COUNSELLORS],
                    patient=p,
                    started_at=now,
                )
                for i, p in enumerate(patients)
            ]
        )
        enrolments = Enrolment.objects.bulk_create(
            [
                Enrolment(organisation=org, patient=p, version=version, start_date=now.date())
                for p in patients
            ]
        )
        # Every call starts within the next 24 hours, so each has its day-before reminder due.
        Call.objects.bulk_create(
            [
                Call(
                    organisation=org,
                    enrolment=e,
                    patient=e.patient,
                    counsellor=profiles[i % COUNSELLORS],
                    week=1,
                    starts_at=(now + timedelta(hours=23, minutes=30)).replace(
                        second=0, microsecond=0
                    )
                    - timedelta(minutes=30 * (i // COUNSELLORS)),
                    booked_by=e.patient.user,
                )
                for i, e in enumerate(enrolments)
            ]
        )
    _world.update(patient=patient_users[0], organisation_id=org.pk)
    return _world


def _slots_setup():
    return _build()["patient"]


def _slots_run(patient):
    from django_scopes import scopes_disabled

    from rarebridge.counselling.selectors import bookable_slots_for_patient

    with scopes_disabled():
        counsellor, slots = bookable_slots_for_patient(user=patient, days=28)
    assert counsellor is not None and slots


def _adapter_run(world):
    """The matching adapter: every counsellor as the engine sees them in slot-capacity mode
    (availability rules expanded in their zone over the six weeks, booked calls out)."""
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from rarebridge.counselling.matching import counsellors_for_matching

    with scopes_disabled():
        counsellors = counsellors_for_matching(
            organisation_ids=[world["organisation_id"]], now=timezone.now()
        )
    assert len(counsellors) == COUNSELLORS
    ADAPTER.notes["weekly slots offered"] = sum(len(c.slots) for c in counsellors)


def _reminders_setup():
    _build()
    from rarebridge.notify.models import Message, OutboxItem

    Message.objects.filter(template_key="call_reminder").delete()
    OutboxItem.objects.all().delete()


def _reminders_run(_state):
    from django_scopes import scopes_disabled

    from rarebridge.counselling.services import call_reminders_due
    from rarebridge.notify.models import Message

    with scopes_disabled():
        call_reminders_due()
    sent = Message.objects.filter(template_key="call_reminder", status="sent").count()
    REMINDERS.notes["reminders sent"] = sent


SLOTS = Benchmark(
    name="free slots, one patient, 4 weeks, 500 counsellors",
    setup=_slots_setup,
    run=_slots_run,
    repeat=30,
    goal_seconds=0.2,
)
ADAPTER = Benchmark(
    name="matching adapter: 500 counsellors' weekly slots, six weeks",
    setup=_build,
    run=_adapter_run,
    repeat=3,
)
REMINDERS = Benchmark(
    name="send 10,000 due reminders (render + deliver to outbox)",
    setup=_reminders_setup,
    run=_reminders_run,
    repeat=1,
)
BENCHMARKS = [SLOTS, ADAPTER, REMINDERS]
