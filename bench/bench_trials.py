"""Randomising 10,000 participants in sequence, and the questionnaire page's server time.

Builds a small study world in a temporary SQLite database: the demo study at five sites, and
10,000 consented participants with a complete baseline (made in bulk, untimed). The timed run
randomises them one after another through ``participant_randomise``, the one write path.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import Benchmark

_tmp = tempfile.mkdtemp(prefix="rarebridge-bench-trials-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")
os.environ.setdefault("RAREBRIDGE_VAR_DIR", _tmp)
NEEDS_DJANGO = True
PARTICIPANTS = 10_000
_state: dict = {}

SITES = [
    ("DE", "Hamburg", "Europe/Berlin"),
    ("CA", "Toronto", "America/Toronto"),
    ("BE", "Ghent", "Europe/Brussels"),
    ("PL", "Warsaw", "Europe/Warsaw"),
    ("HU", "Debrecen", "Europe/Budapest"),
]


def _world():
    if "study" in _state:
        return _state
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from rarebridge.accounts.models import PatientProfile, RoleAssignment, User
    from rarebridge.accounts.services import role_assign, user_create
    from rarebridge.core.permissions import Role
    from rarebridge.network.models import Country, Organisation, Site
    from rarebridge.programs.services import program_version_load
    from rarebridge.trials.models import Assessment, ConsentRecord, ConsentVersion, Participant
    from rarebridge.trials.services import study_load

    call_command("migrate", verbosity=0)
    base = Path(settings.BASE_DIR) / "content"
    with scopes_disabled():
        org = Organisation.objects.create(
            name="Bench", slug="rarebridge-consortium", kind="research_consortium"
        )
        sites = []
        for code, name, tz in SITES:
            country = Country.objects.create(
                code=code, names={"en": code}, emergency_number="112", default_time_zone=tz
            )
            sites.append(
                Site.objects.create(
                    organisation=org, country=country, name=name, city=name, time_zone=tz
                )
            )
        coordinator = user_create(
            email="tm@bench.test", full_name="Trial Manager", language="en", time_zone="UTC"
        )
        role_assign(user=coordinator, role=Role.TRIAL_MANAGER, organisation=org, site=None, by=None)
        program_version_load(path=base / "programs" / "act-six-weeks" / "1")
        study, _ = study_load(path=base / "studies" / "qrare-demo.json")
        version = ConsentVersion.objects.filter(study=study, language="en").first()
        now = timezone.now()
        users = User.objects.bulk_create(
            User(
                email=f"p{n}@bench.test",
                full_name=f"Participant {n}",
                language="en",
                time_zone=sites[n % 5].time_zone,
            )
            for n in range(PARTICIPANTS)
        )
        RoleAssignment.objects.bulk_create(
            RoleAssignment(user=u, role=Role.PATIENT, organisation=org, site=sites[n % 5])
            for n, u in enumerate(users)
        )
        profiles = PatientProfile.objects.bulk_create(
            PatientProfile(
                user=u,
                organisation=org,
                site=sites[n % 5],
                country=sites[n % 5].country,
                code=f"RB-B-{n:05d}",
            )
            for n, u in enumerate(users)
        )
        participants = Participant.objects.bulk_create(
            Participant(
                organisation=org,
                study=study,
                site=sites[n % 5],
                patient=p,
                status=Participant.Status.CONSENTED,
                diagnosis=("AIH", "PSC", "PBC")[n % 3],
                language="en",
            )
            for n, p in enumerate(profiles)
        )
        ConsentRecord.objects.bulk_create(
            ConsentRecord(
                organisation=org,
                participant=p,
                version=version,
                typed_name="x",
                signed_at=now,
                pdf=b"%PDF-bench",
                pdf_sha256="0" * 64,
                countersigned_by=coordinator,
                countersigned_at=now,
            )
            for p in participants
        )
        Assessment.objects.bulk_create(
            Assessment(
                organisation=org,
                participant=p,
                timepoint="T0",
                instruments=["phq9", "gad7"],
                opens_at=now,
                completed_at=now,
            )
            for p in participants
        )
    _state.update(study=study, coordinator=coordinator, participants=participants)
    return _state


def _randomise_setup():
    return _world()


def _randomise_all(state):
    from django_scopes import scopes_disabled

    from rarebridge.trials.services import participant_randomise

    with scopes_disabled():
        for participant in state["participants"]:
            participant_randomise(participant=participant, by=state["coordinator"])


def _page_setup():
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from rarebridge.accounts.services import role_assign, user_create
    from rarebridge.core.permissions import Role
    from rarebridge.trials.models import Assessment, Participant

    state = _world()
    with scopes_disabled():
        # A fresh participant in the same study whose baseline is open.
        fresh = user_create(
            email="page@bench.test", full_name="Page", language="en", time_zone="Europe/Berlin"
        )
        site = state["participants"][0].site
        role_assign(
            user=fresh, role=Role.PATIENT, organisation=site.organisation, site=site, by=None
        )
        participant = Participant.objects.create(
            organisation=site.organisation,
            study=state["study"],
            site=site,
            patient=fresh.patient_profile,
            status=Participant.Status.CONSENTED,
            diagnosis="PSC",
            language="en",
        )
        Assessment.objects.create(
            organisation=site.organisation,
            participant=participant,
            timepoint="T0",
            instruments=["phq9", "gad7"],
            opens_at=timezone.now(),
        )
        client = Client()
        client.force_login(fresh)
    url = reverse("trials_patient:answer", args=["T0", "phq9"])
    assert client.get(url).status_code == 200
    return client, url


def _page(state):
    client, url = state
    client.get(url)


BENCHMARKS = [
    Benchmark(
        name=f"trials: randomise {PARTICIPANTS:,} participants in sequence",
        setup=_randomise_setup,
        run=_randomise_all,
        repeat=1,
        # 20 ms a randomisation: the coordinator's click stays instant, and a full trial's
        # worth of allocations (a few hundred) is never the slow part of anything.
        goal_seconds=PARTICIPANTS * 0.02,
    ),
    Benchmark(
        name="trials: questionnaire page (PHQ-9) server time",
        setup=_page_setup,
        run=_page,
        repeat=50,
        goal_seconds=0.05,
    ),
]
