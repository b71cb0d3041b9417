"""The demo study: ``qrare-demo`` with participants at every stage, at each demo site.

Called once by ``seed_demo`` after the world, program and counsellors exist. Deterministic and
idempotent: a study that already has participants is left as it is.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django_scopes import scopes_disabled

from rarebridge.accounts.models import RoleAssignment
from rarebridge.accounts.services import email_confirm
from rarebridge.core.permissions import Role
from rarebridge.programs.models import Enrolment
from rarebridge.trials.models import Allocation, Assessment, Participant, Study
from rarebridge.trials.services import (
    Contact,
    consent_countersign,
    consent_sign,
    participant_randomise,
    response_for,
    response_save,
    response_submit,
    schedule_assessments,
    screening_record,
    study_load,
)

STUDY_FILE = Path(settings.BASE_DIR) / "content" / "studies" / "qrare-demo.json"
DEMO_DOMAIN = "rarebridge.test"
DEMO_PASSWORD = "rarebridge-demo"  # noqa: S105 - the published demo credential
SITE_KEYS = {"Hamburg": "de", "Toronto": "ca", "Ghent": "be", "Warsaw": "pl", "Debrecen": "hu"}
NAMES = {
    "de": ["Jana Vogt", "Timo Brandt", "Lea Hartmann", "Ole Friedrich", "Mira Kühn", "Paul Seidel"],
    "ca": [
        "Ava Tremblay",
        "Noah Gagnon",
        "Chloe Roy",
        "Liam Côté",
        "Emma Bouchard",
        "Owen Gauthier",
    ],
    "be": [
        "Lotte Peeters",
        "Jens Maes",
        "Noor Jacobs",
        "Wout Claes",
        "Fien Willems",
        "Lars Goossens",
    ],
    "pl": [
        "Zofia Nowak",
        "Jakub Wójcik",
        "Maja Kowalczyk",
        "Antoni Kamiński",
        "Lena Lewandowska",
        "Szymon Zieliński",
    ],
    "hu": ["Nagy Anna", "Kovács Bence", "Tóth Réka", "Szabó Máté", "Horváth Lili", "Varga Dávid"],
}
LANGUAGE = {"de": "de", "ca": "en", "be": "nl", "pl": "pl", "hu": "hu"}
DIAGNOSES = ["AIH", "PSC", "PBC"]
CALM = {
    "phq9": {f"phq9-{n}": (n % 2) for n in range(1, 9)} | {"phq9-9": 0, "phq9-10": 1},
    "gad7": {f"gad7-{n}": (n % 3) for n in range(1, 8)} | {"gad7-8": 1},
    # SF-12 v1 (the primary outcome): a fairly well person, raw codes in printed order.
    "sf12v1": {
        "GH1": 3,
        "PF02": 3,
        "PF04": 3,
        "RP2": 2,
        "RP3": 2,
        "RE2": 2,
        "RE3": 2,
        "BP2": 2,
        "MH3": 3,
        "VT2": 3,
        "MH4": 4,
        "SF2": 4,
    },
}


def _answer(participant: Participant, timepoint: str) -> None:
    assessment = participant.assessments.get(timepoint=timepoint)
    user = participant.patient.user
    for instrument in assessment.instruments:
        response = response_for(assessment=assessment, instrument=instrument)
        response_save(
            response=response, answers=CALM[instrument], base_revision=response.revision, by=user
        )
        response_submit(response=response, by=user)


def _backdate(participant: Participant, days: int) -> None:
    """Demo only: move a randomisation into the past so T1 is due or overdue today."""
    allocation = Allocation.objects.get(participant=participant)
    # Back by whole days on the participant's own calendar: across a clock change, going back
    # 24-hour days from late evening lands on the next local day, a day after the program's
    # start date moved back by the same days.
    zone = ZoneInfo(participant.patient.user.time_zone)
    when = allocation.randomised_at.astimezone(zone) - timedelta(days=days)
    Allocation.objects.filter(pk=allocation.pk).update(randomised_at=when)
    start = None
    enrolment = Enrolment.objects.filter(patient=participant.patient).first()
    if enrolment is not None:
        start = enrolment.start_date - timedelta(days=days)
        Enrolment.objects.filter(pk=enrolment.pk).update(start_date=start)
    Assessment.objects.filter(participant=participant, timepoint="T0").update(
        opens_at=when - timedelta(days=3), completed_at=when - timedelta(hours=1)
    )
    schedule_assessments(participant=participant, randomised_at=when, program_start=start)


def trials_demo_load() -> Study:
    # The demo acts for the whole platform, across its organisation.
    with scopes_disabled():
        study, _outcome = study_load(path=STUDY_FILE)
        if study.participants.exists():
            return study
        password_hash = make_password(DEMO_PASSWORD)
        with transaction.atomic():
            for study_site in study.study_sites.select_related("site").order_by("site__name"):
                _site(study, study_site.site, password_hash)
    return study


def _site(study: Study, site, password_hash: str) -> None:
    key = SITE_KEYS.get(site.name, site.name[:2].lower())
    coordinator = (
        RoleAssignment.objects.filter(role=Role.SITE_COORDINATOR, site=site, is_active=True)
        .select_related("user")
        .first()
    )
    coordinator_user = coordinator.user if coordinator else None
    # Screened out, each with a logged reason.
    for reasons in ({"ongoing_psychotherapy": True}, {"diagnosis": "other"}, {"adult": False}):
        screening_record(
            study=study,
            site=site,
            answers={
                "diagnosis": "PSC",
                "adult": True,
                "wants_support": True,
                **reasons,
            },
            contact=None,
            by=None,
        )
    participants = []
    for n, name in enumerate(NAMES.get(key, NAMES["ca"]), start=1):
        outcome = screening_record(
            study=study,
            site=site,
            answers={"diagnosis": DIAGNOSES[n % 3], "adult": True, "wants_support": True},
            contact=Contact(
                full_name=name,
                # patient91-96: beyond the demo's 40 patients a site, whose program seeding
                # reads the number from the address and leaves numbers above 30 alone.
                email=f"patient{90 + n:02d}.{key}@{DEMO_DOMAIN}",
                language=LANGUAGE.get(key, "en"),
                time_zone=site.time_zone,
            ),
            by=None,
        )
        user, participant = outcome.user, outcome.participant
        assert user is not None and participant is not None  # the answers make them eligible
        user.password = password_hash
        user.save(update_fields=["password"])
        participants.append(participant)
    # 1: eligible, e-mail address not yet confirmed. 2: consented, awaiting countersignature.
    # 3: consented and T0 done. 4-6: randomised; 5 with T1 due, 6 with T1 overdue.
    for index, participant in enumerate(participants[1:], start=2):
        email_confirm(user=participant.patient.user)  # they opened the link before consenting
        record = consent_sign(
            participant=participant,
            typed_name=participant.patient.user.full_name,
            comprehension={"voluntary": "yes", "chance": "yes", "emergency": "no"},
            by=participant.patient.user,
        )
        if index == 2 or coordinator_user is None:
            continue
        consent_countersign(consent=record, by=coordinator_user)
        _answer(participant, "T0")
        if index >= 4:
            participant_randomise(participant=participant, by=coordinator_user)
        if index == 5:
            _backdate(participant, days=49)
        elif index == 6:
            _backdate(participant, days=60)
