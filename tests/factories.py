"""Factories for the fixed cast and for volume."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from rarebridge.accounts.models import PatientProfile, RoleAssignment, User
from rarebridge.core.permissions import Role
from rarebridge.network.models import Country, CrisisResource, Organisation, Site


class CountryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Country
        django_get_or_create = ("code",)

    code = "DE"
    names = factory.LazyAttribute(
        lambda o: {
            "en": {"DE": "Germany", "CA": "Canada"}.get(o.code, o.code),
            "de": "Deutschland" if o.code == "DE" else o.code,
        }
    )
    emergency_number = "112"
    default_time_zone = "Europe/Berlin"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    kind = Organisation.Kind.HOSPITAL_NETWORK


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organisation = factory.SubFactory(OrganisationFactory)
    country = factory.SubFactory(CountryFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    city = "Hamburg"
    time_zone = "Europe/Berlin"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    language = "en"
    time_zone = "Europe/Berlin"
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = Role.PATIENT
    organisation = factory.SubFactory(OrganisationFactory)
    site = None


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PatientProfile
        skip_postgeneration_save = True  # the role hook writes another row, not the profile

    user = factory.SubFactory(UserFactory)
    site = factory.SubFactory(SiteFactory)
    organisation = factory.SelfAttribute("site.organisation")
    country = factory.SelfAttribute("site.country")
    code = factory.Sequence(lambda n: f"RB-TST-{n:04d}")

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):
        if create:
            RoleAssignment.objects.get_or_create(
                user=obj.user, role=Role.PATIENT, organisation=obj.organisation, site=obj.site
            )


class CrisisResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CrisisResource

    country = factory.SubFactory(CountryFactory)
    kind = CrisisResource.Kind.CRISIS_LINE
    name = factory.Sequence(lambda n: f"Helpline {n}")
    phone = "+498001110111"
    hours = CrisisResource.Hours.ALWAYS
    cost = CrisisResource.Cost.FREE
    last_checked = dt.date(2026, 11, 1)


def now():
    return timezone.now()
