"""Helpers for the study tests: the demo study loaded into the cast's organisation, and a
participant walked to any stage."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from rarebridge.accounts.services import email_confirm
from rarebridge.programs.services import program_version_load
from rarebridge.trials.demo import CALM
from rarebridge.trials.models import Participant, Study
from rarebridge.trials.services import (
    Contact,
    consent_countersign,
    consent_sign,
    response_for,
    response_save,
    response_submit,
    screening_record,
    study_load,
)
from tests.factories import CountryFactory, SiteFactory

STUDY_FILE = Path(settings.BASE_DIR) / "content" / "studies" / "qrare-demo.json"
PROGRAM_DIR = Path(settings.BASE_DIR) / "content" / "programs" / "act-six-weeks" / "1"

ELIGIBLE = {
    "diagnosis": "PSC",
    "adult": True,
    "wants_support": True,
    "life_threatening": False,
    "acute_suicidality": False,
    "ongoing_psychotherapy": False,
    "insufficient_language": False,
    "cognitive_impairment": False,
}
CALM_PHQ9 = {f"phq9-{n}": 0 for n in range(1, 11)}
CALM_GAD7 = {f"gad7-{n}": 0 for n in range(1, 9)}


def load_demo_study(cast) -> Study:
    """The demo study in the cast's organisation; its other three sites are created here."""
    for code, name, tz in (
        ("BE", "Ghent", "Europe/Brussels"),
        ("PL", "Warsaw", "Europe/Warsaw"),
        ("HU", "Debrecen", "Europe/Budapest"),
    ):
        country = CountryFactory(code=code, default_time_zone=tz)
        SiteFactory(organisation=cast.org, country=country, name=name, city=name, time_zone=tz)
    program_version_load(path=PROGRAM_DIR)
    study, _outcome = study_load(path=STUDY_FILE, organisation=cast.org)
    return study


def screen_in(study: Study, site, *, email: str, name: str = "Pia Patient", diagnosis="PSC"):
    outcome = screening_record(
        study=study,
        site=site,
        answers={**ELIGIBLE, "diagnosis": diagnosis},
        contact=Contact(
            full_name=name,
            email=email,
            language="en",
            time_zone=site.time_zone,
            password="a long enough passphrase 42",
        ),
        by=None,
    )
    confirm_email(outcome.user)
    return outcome.participant


def confirm_email(user) -> None:
    """What opening the confirmation link does (tests of the link itself go through it)."""
    email_confirm(user=user)


def consent(participant: Participant, coordinator=None):
    user = participant.patient.user
    record = consent_sign(
        participant=participant,
        typed_name=user.full_name,
        comprehension={"voluntary": "yes", "chance": "yes", "emergency": "no"},
        by=user,
    )
    if coordinator is not None:
        consent_countersign(consent=record, by=coordinator)
    return record


def answer_all(participant: Participant, timepoint: str, *, by=None, phq9=None):
    assessment = participant.assessments.get(timepoint=timepoint)
    by = by or participant.patient.user
    results = []
    given = {"phq9": phq9 or CALM_PHQ9, "gad7": CALM_GAD7, "sf12v1": CALM["sf12v1"]}
    for instrument in assessment.instruments:
        answers = given[instrument]
        response = response_for(assessment=assessment, instrument=instrument)
        saved = response_save(response=response, answers=answers, base_revision=0, by=by)
        assert saved.status == "saved", saved
        results.append(response_submit(response=response, by=by))
    return results


def ready_to_randomise(study, site, coordinator, *, email: str, diagnosis="PSC") -> Participant:
    participant = screen_in(study, site, email=email, diagnosis=diagnosis)
    consent(participant, coordinator)
    answer_all(participant, "T0")
    participant.refresh_from_db()
    return participant
