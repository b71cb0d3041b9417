"""Load the demo world. Deterministic and idempotent: running it again changes nothing."""

from __future__ import annotations

import random
import zoneinfo
from datetime import datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from rarebridge.accounts.mfa import demo_totp_secret, totp_enrol
from rarebridge.accounts.models import PatientProfile, User
from rarebridge.accounts.services import role_assign, user_create
from rarebridge.care.demo import care_demo_load
from rarebridge.core.permissions import ORGANISATION_WIDE_ROLES, Role
from rarebridge.counselling.models import Assignment, Call
from rarebridge.counselling.selectors import free_slots_for
from rarebridge.counselling.services import (
    assignment_start,
    availability_rule_add,
    call_book,
    call_import,
    certification_grant_unchecked,
    counsellor_profile_upsert,
    note_save,
    training_curriculum_load,
)
from rarebridge.demo.crisis import CRISIS_RESOURCES, emergency_resource
from rarebridge.demo.world import (
    COUNTRIES,
    LAST_CHECKED,
    PEOPLE,
    SITES,
)
from rarebridge.directory.services import directory_demo_load
from rarebridge.network.models import Site
from rarebridge.network.services import (
    country_upsert,
    crisis_resource_upsert,
    organisation_upsert,
    site_upsert,
)
from rarebridge.notify.templates_store import load_message_templates
from rarebridge.programs.models import Enrolment, Guideline
from rarebridge.programs.services import enrolment_start, program_version_load
from rarebridge.trials.demo import trials_demo_load

DEMO_PASSWORD = "rarebridge-demo"  # noqa: S105 - published demo credential, refused in production
DOMAIN = "rarebridge.test"
PATIENTS_PER_SITE = 40
TRAINING_FILE = Path(settings.BASE_DIR) / "content" / "training" / "peer-counsellor-core.json"
SITE_NAMES = {key: name for _code, name, _city, _tz, key in SITES}
DEMO_INTRO = "I have lived with a rare condition for many years. I know how lonely it can feel, and I am glad to listen."
PROGRAM_DIR = Path(settings.BASE_DIR) / "content" / "programs" / "act-six-weeks" / "1"


def demo_staff() -> list[tuple[str, str, Role, str | None]]:
    """(email, full name, role, site key or None) of every demo staff member."""
    staff: list[tuple[str, str, Role, str | None]] = []
    for _country, _site, _city, _tz, key in SITES:
        names = PEOPLE[key]
        staff += [
            (
                f"supervisor.{key}@{DOMAIN}",
                f"{names['first'][10]} {names['last'][10]}",
                Role.SUPERVISOR,
                key,
            ),
            (
                f"counsellor1.{key}@{DOMAIN}",
                f"{names['first'][11]} {names['last'][11]}",
                Role.COUNSELLOR,
                key,
            ),
            (
                f"counsellor2.{key}@{DOMAIN}",
                f"{names['first'][12]} {names['last'][12]}",
                Role.COUNSELLOR,
                key,
            ),
            (
                f"coordinator.{key}@{DOMAIN}",
                f"{names['first'][13]} {names['last'][13]}",
                Role.SITE_COORDINATOR,
                key,
            ),
        ]
    staff += [
        (f"trial.manager@{DOMAIN}", "Katharina Hartmann", Role.TRIAL_MANAGER, None),
        (f"care.coordinator@{DOMAIN}", "Sarah Campbell", Role.CARE_COORDINATOR, None),
        (f"program.admin@{DOMAIN}", "Pieter Claes", Role.PROGRAM_ADMIN, None),
    ]
    return staff


class Command(BaseCommand):
    help = "Load the deterministic demo world (safe to run again)."

    @scopes_disabled()
    def handle(self, *args, **options):
        rng = random.Random(20221)  # noqa: S311 - demo data only
        with transaction.atomic():
            self._world(rng)
        load_message_templates()
        self._program()
        self._counselling()
        care_demo_load()  # a two-day one-stop clinic at Hamburg, planned by the solver
        trials_demo_load()  # qrare-demo: participants at every stage at the five sites
        directory_demo_load()  # conditions, the directory, and demo patients in the peer finder
        self.stdout.write(self.style.SUCCESS("Demo world ready."))

    def _world(self, rng: random.Random) -> None:
        countries = {
            code: country_upsert(
                code=code,
                names=c["names"],
                emergency_number=c["emergency"],
                default_time_zone=c["tz"],
            )
            for code, c in COUNTRIES.items()
        }
        lines = [emergency_resource(code) for code in countries] + CRISIS_RESOURCES
        for line in lines:
            fields = {"kind": "crisis_line", **line}
            crisis_resource_upsert(
                country=countries[fields.pop("country")],
                name=fields.pop("name"),
                phone=fields.pop("phone"),
                last_checked=LAST_CHECKED,
                **fields,
            )
        org = organisation_upsert(
            slug="rarebridge-consortium", name="RareBridge Consortium", kind="research_consortium"
        )
        sites = {
            key: site_upsert(
                organisation=org, country=countries[code], name=name, city=city, time_zone=tz
            )
            for code, name, city, tz, key in SITES
        }
        password_hash = make_password(DEMO_PASSWORD)
        for email, full_name, role, key in demo_staff():
            site = sites[key] if key else None
            user = self._person(
                email=email,
                full_name=full_name,
                site_key=key,
                sites=sites,
                password_hash=password_hash,
            )
            # Trial manager, care coordinator and program admin reach every site (their
            # nature, said on the assignment too); each site's supervisor and coordinator
            # reach their own site only.
            role_assign(
                user=user,
                role=role,
                organisation=org,
                site=site,
                by=None,
                organisation_wide=role in ORGANISATION_WIDE_ROLES,
            )
            totp_enrol(user=user, secret=demo_totp_secret(email))
        for _code, _name, _city, _tz, key in SITES:
            self._patients(key=key, site=sites[key], org=org, rng=rng, password_hash=password_hash)

    def _program(self) -> None:
        """Load the program and enrol most patients, at different weeks of it."""
        version, _outcome = program_version_load(path=PROGRAM_DIR)
        for profile in PatientProfile.objects.select_related("user").order_by("code"):
            number = int(profile.user.email[len("patient") :][:2])
            if number > 30 or Enrolment.objects.filter(patient=profile).exists():
                continue  # patients 31-40 of each site are not enrolled yet
            today = timezone.now().astimezone(zoneinfo.ZoneInfo(profile.user.time_zone)).date()
            # 0-6 weeks ago, so the demo has patients in every week and a few who finished.
            enrolment_start(
                patient=profile,
                version=version,
                start_date=today - timedelta(days=7 * (number % 7)),
            )

    def _counselling(self) -> None:
        """Counsellor profiles, weekly availability, certification, and each assigned patient's
        calls: past weeks held (one missed) with signed notes, the coming week booked."""
        training_curriculum_load(path=TRAINING_FILE)
        now = timezone.now()
        for user in User.objects.filter(email__startswith="counsellor").order_by("email"):
            key = user.email.split(".")[1].split("@")[0]
            site = Site.objects.get(name=SITE_NAMES[key])
            languages = sorted(set(PEOPLE[key]["languages"]) | {"en"})
            profile = counsellor_profile_upsert(
                user=user,
                organisation_id=site.organisation_id,
                country_id=site.country_id,
                languages=languages,
                gender="woman" if user.email.startswith("counsellor1") else "man",
                age_band="40-49",
                introduction=DEMO_INTRO,
            )
            if not profile.rules.exists():
                for weekday, start, end in (
                    (0, time(17), time(20)),
                    (1, time(10), time(13)),
                    (3, time(17), time(20)),
                ):
                    availability_rule_add(
                        counsellor=profile, weekday=weekday, start=start, end=end, by=user
                    )
            if not profile.certifications.exists():
                certification_grant_unchecked(
                    counsellor=profile, by=None, granted_at=now - timedelta(days=60)
                )
        guideline_topics = {
            (g.week): [i["id"] for i in g.checklist]
            for g in Guideline.objects.filter(language="en")
        }
        per_counsellor: dict[int, int] = {}
        for assignment in Assignment.objects.filter(ended_at__isnull=True).select_related(
            "patient__user", "counsellor"
        ):
            enrolment = Enrolment.objects.filter(
                patient=assignment.patient, status="active"
            ).first()
            if enrolment is None or Call.objects.filter(enrolment=enrolment).exists():
                continue
            profile = assignment.counsellor.counsellor_profile
            zone = zoneinfo.ZoneInfo(profile.user.time_zone)
            slot = per_counsellor[profile.pk] = (
                per_counsellor.get(profile.pk, -1) + 1
            )  # each patient their own hour
            for week in range(1, 7):
                day = enrolment.start_date + timedelta(
                    days=7 * (week - 1) + 1
                )  # the Tuesday-ish after each start
                starts_at = datetime.combine(day, time(9 + slot), tzinfo=zone)
                if starts_at < now - timedelta(hours=1):
                    call = call_import(
                        enrolment=enrolment, counsellor=profile, starts_at=starts_at, week=week
                    )
                    held = (week + assignment.patient.pk) % 5 != 0  # now and then a call is missed
                    note_save(
                        call=call,
                        by=profile.user,
                        sign=True,
                        held=held,
                        duration_minutes=30 if held else None,
                        missed_code="" if held else "no_answer",
                        missed_reason=""
                        if held
                        else "No answer; a new time was offered by text message.",
                        topics=guideline_topics.get(week, [])[: 6 + week % 4] if held else [],
                        engagement=3 if held else None,
                        risk="none",
                        agreed_next="Try the week's exercises and bring one question."
                        if held
                        else "",
                    )
                else:
                    free = free_slots_for(
                        counsellor=profile,
                        start=max(starts_at, now + timedelta(hours=2)),
                        end=starts_at + timedelta(days=7),
                    )
                    if free:
                        call_book(
                            enrolment=enrolment,
                            counsellor=profile,
                            starts_at=free[0],
                            week=week,
                            by=assignment.patient.user,
                        )
                    break

    def _person(self, *, email, full_name, site_key, sites, password_hash, language=None) -> User:
        existing = User.objects.filter(email=email).first()
        if existing:
            return existing
        tz = sites[site_key].time_zone if site_key else "Europe/Berlin"
        lang = language or (PEOPLE[site_key]["languages"][0] if site_key else "en")
        return user_create(
            email=email,
            full_name=full_name,
            language=lang,
            time_zone=tz,
            password_hash=password_hash,
        )

    def _patients(self, *, key, site, org, rng, password_hash) -> None:
        names = PEOPLE[key]
        counsellors = list(
            User.objects.filter(
                email__startswith="counsellor", email__contains=f".{key}@"
            ).order_by("email")
        )
        for n in range(1, PATIENTS_PER_SITE + 1):
            first = names["first"][(n * 7) % len(names["first"])]
            last = names["last"][(n * 5 + n // 3) % len(names["last"])]
            full = (
                f"{last} {first}" if key == "hu" else f"{first} {last}"
            )  # Hungarian order: family name first
            email = f"patient{n:02d}.{key}@{DOMAIN}"
            language = names["languages"][rng.randrange(len(names["languages"]))]
            user = self._person(
                email=email,
                full_name=full,
                site_key=key,
                sites={key: site},
                password_hash=password_hash,
                language=language,
            )
            role_assign(user=user, role=Role.PATIENT, organisation=org, site=site, by=None)
            profile = user.patient_profile
            # The first eight patients of each site have a counsellor; the rest wait.
            if n <= 8 and counsellors and not Assignment.objects.filter(patient=profile).exists():
                assignment_start(
                    patient=profile,
                    counsellor=counsellors[n % len(counsellors)],
                    by=None,
                    started_at=timezone.now() - timedelta(days=7 * (n % 6)),
                )
