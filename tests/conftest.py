"""The fixed cast: a patient, their counsellor, a supervisor, a site coordinator, a program
admin, and an outsider from another organisation. Staff have MFA enrolled unless a test says
otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from rarebridge.accounts.mfa import totp_enrol
from rarebridge.accounts.models import PatientProfile, User
from rarebridge.core.permissions import Role
from rarebridge.counselling.services import assignment_start
from rarebridge.network.models import Organisation, Site
from tests.factories import (
    CountryFactory,
    OrganisationFactory,
    PatientFactory,
    RoleFactory,
    SiteFactory,
    UserFactory,
)

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(autouse=True)
def _no_scope_in_test_code():
    """Tests arrange and assert across organisations; requests still run scoped."""
    with scopes_disabled():
        yield


@pytest.fixture(autouse=True)
def _english_and_utc():
    """Each test starts in English and UTC: a request handled in another test leaves its
    language active in the thread (the locale middleware activates, never deactivates)."""
    from django.utils import timezone, translation

    translation.activate("en")
    timezone.deactivate()
    yield


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


@dataclass
class Cast:
    org: Organisation
    site: Site
    other_site: Site
    patient: PatientProfile
    other_patient: PatientProfile  # same organisation, other site, no counsellor
    counsellor: User
    supervisor: User
    coordinator: User
    admin: User
    trial_manager: User
    care_coordinator: User
    outsider: User  # site coordinator of another organisation
    outsider_patient: PatientProfile


def staff(role: Role, org: Organisation, site: Site | None = None, mfa: bool = True, **kw) -> User:
    user = UserFactory(**kw)
    RoleFactory(user=user, role=role, organisation=org, site=site)
    if mfa:
        totp_enrol(user=user, secret=TOTP_SECRET)
    return user


@pytest.fixture
def cast(db) -> Cast:
    de = CountryFactory(code="DE")
    ca = CountryFactory(code="CA", default_time_zone="America/Toronto", emergency_number="911")
    org = OrganisationFactory(name="Rare Network")
    site = SiteFactory(organisation=org, country=de, name="Hamburg", city="Hamburg")
    other_site = SiteFactory(
        organisation=org, country=ca, name="Toronto", city="Toronto", time_zone="America/Toronto"
    )
    patient = PatientFactory(
        site=site, user__full_name="Anna Schmidt", user__email="anna@example.org"
    )
    other_patient = PatientFactory(
        site=other_site, user__full_name="Liam Smith", user__time_zone="America/Toronto"
    )
    counsellor = staff(
        Role.COUNSELLOR, org, site, full_name="Carla Counsellor", email="carla@example.org"
    )
    assignment_start(patient=patient, counsellor=counsellor, by=None)
    other_org = OrganisationFactory(name="Elsewhere Clinic")
    other_org_site = SiteFactory(
        organisation=other_org, country=de, name="Elsewhere", city="Berlin"
    )
    outsider_patient = PatientFactory(site=other_org_site, user__full_name="Otto Outside")
    return Cast(
        org=org,
        site=site,
        other_site=other_site,
        patient=patient,
        other_patient=other_patient,
        counsellor=counsellor,
        supervisor=staff(
            Role.SUPERVISOR, org, site, full_name="Sam Supervisor", email="sam@example.org"
        ),
        coordinator=staff(
            Role.SITE_COORDINATOR, org, site, full_name="Cora Coordinator", email="cora@example.org"
        ),
        admin=staff(Role.PROGRAM_ADMIN, org, None, full_name="Ada Admin", email="ada@example.org"),
        trial_manager=staff(
            Role.TRIAL_MANAGER, org, None, full_name="Tara Trial", email="tara@example.org"
        ),
        care_coordinator=staff(
            Role.CARE_COORDINATOR, org, None, full_name="Cem Care", email="cem@example.org"
        ),
        outsider=staff(
            Role.SITE_COORDINATOR, other_org, other_org_site, full_name="Oscar Outsider"
        ),
        outsider_patient=outsider_patient,
    )


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_user():
    return client_for
