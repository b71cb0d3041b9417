"""Fixtures and helpers shared by the directory tests (imported by each tests/test_directory*.py;
the fixed cast lives in tests/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from rarebridge.conditions.catalogue import forget_catalogue
from rarebridge.conditions.models import Condition
from rarebridge.conditions.services import catalogue_content_load, patient_condition_set
from rarebridge.directory.models import DirectoryEntry, PeerProfile
from rarebridge.directory.services import (
    EntryData,
    directory_content_load,
    entry_suggest,
    finder_join,
)
from tests.factories import PatientFactory, SiteFactory

AIH, PSC, PBC, MARFAN, ALSTROM = 2137, 171, 186, 558, 64
AUTOIMMUNE_LIVER, HEPATIC = 9000002, 9000001


@pytest.fixture(autouse=True)
def _fresh_catalogue():
    """The in-memory index is per process; every test starts from its own database."""
    forget_catalogue()
    yield
    forget_catalogue()


@pytest.fixture
def catalogue(db):
    """The demo catalogue of content/conditions (AIH, PSC, PBC and their groups, and more)."""
    catalogue_content_load()
    forget_catalogue()
    return {c.orphacode: c for c in Condition.objects.all()}


@pytest.fixture
def directory(catalogue):
    """The demo directory of content/directory, all verified."""
    directory_content_load()
    return {e.slug: e for e in DirectoryEntry.objects.all()}


def condition(code: int) -> Condition:
    return Condition.objects.get(orphacode=code)


def patient_in(org_site, *, language: str = "en", name: str = "", **kw):
    extra = {"user__full_name": name} if name else {}
    return PatientFactory(site=org_site, user__language=language, **extra, **kw)


def findable(patient, code: int, *, languages=("en",), scope=PeerProfile.Scope.CONDITION, alias=""):
    """Give ``patient`` the condition and let them join the finder."""
    c = condition(code)
    patient_condition_set(patient=patient, condition=c, by=None)
    return finder_join(
        patient=patient,
        condition=c,
        languages=list(languages),
        alias=alias or patient.user.display_name,
        scope=scope,
        by=patient.user,
    )


def peers(n: int, code: int, *, languages=("en",), scope=PeerProfile.Scope.CONDITION, site=None):
    """``n`` findable patients of a fresh organisation (peers connect across organisations)."""
    site = site or SiteFactory()
    return [
        findable(PatientFactory(site=site), code, languages=languages, scope=scope)
        for _ in range(n)
    ]


def suggestion(**overrides) -> DirectoryEntry:
    data = {
        "name": "PSC Friends Hamburg",
        "kind": DirectoryEntry.Kind.LOCAL_GROUP,
        "descriptions": {"en": "We meet monthly."},
        "conditions": [condition(PSC)],
        "countries": ["DE"],
        "languages": ["de"],
        "website": "https://psc-friends.example.org",
    }
    data.update(overrides)
    return entry_suggest(data=EntryData(**data))


def days_ago(n: int):
    return timezone.localdate() - timedelta(days=n)
