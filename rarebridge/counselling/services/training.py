"""Counsellors' profiles, training and certification: attendance, the role-play sign-off,
granting, importing and revoking certifications, loading a curriculum."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.counselling.models import (
    Certification,
    CounsellorProfile,
    RolePlayAssessment,
    TrainingAttendance,
    TrainingModule,
)
from rarebridge.counselling.selectors import counsellor_in_reach, training_gaps


def _check_reach(counsellor: CounsellorProfile, by: Actor | User | None) -> None:
    """Training and certification are recorded only by someone whose reach covers the
    counsellor's site (the system, loading or importing, always may)."""
    person = user_of(by)
    if person is not None and not counsellor_in_reach(user=person, counsellor=counsellor):
        raise PermissionDenied


def counsellor_profile_upsert(
    *,
    user: User,
    organisation_id: int,
    country_id: str,
    languages: list[str],
    by: Actor | User | None = None,
    **fields,
) -> CounsellorProfile:
    with transaction.atomic():
        profile, created = CounsellorProfile.objects.update_or_create(
            user=user,
            defaults={
                "organisation_id": organisation_id,
                "country_id": country_id,
                "languages": languages,
                **fields,
            },
        )
        audit_log(
            action="counselling.profile.created" if created else "counselling.profile.changed",
            actor=by,
            obj=profile,
            payload={"fields": sorted(fields)},
        )
    return profile


def training_attendance_record(
    *, counsellor: CounsellorProfile, module: TrainingModule, attended_on: date, by: Actor | User
) -> TrainingAttendance:
    _check_reach(counsellor, by)
    with transaction.atomic():
        row, _created = TrainingAttendance.objects.get_or_create(
            counsellor=counsellor,
            module=module,
            attended_on=attended_on,
            defaults={"organisation_id": counsellor.organisation_id, "recorded_by": user_of(by)},
        )
        audit_log(
            action="counselling.training.attended",
            actor=by,
            obj=row,
            payload={"module": module.code},
        )
        # A refresher keeps a current certification going for another period.
        if module.is_refresher:
            current = counsellor.certifications.filter(
                revoked_at__isnull=True, valid_until__gt=timezone.now()
            ).first()
            if current:
                current.valid_until = timezone.now() + timedelta(
                    days=settings.CERTIFICATION_VALID_DAYS
                )
                current.save(update_fields=["valid_until", "updated_at"])
                audit_log(action="counselling.certification.renewed", actor=by, obj=current)
    return row


def roleplay_sign_off(
    *, counsellor: CounsellorProfile, results: dict[str, bool], by: Actor | User
) -> RolePlayAssessment:
    _check_reach(counsellor, by)
    with transaction.atomic():
        assessment = RolePlayAssessment.objects.create(
            organisation_id=counsellor.organisation_id,
            counsellor=counsellor,
            results=results,
            passed=bool(results) and all(results.values()),
            signed_off_by=user_of(by),
            signed_off_at=timezone.now(),
        )
        audit_log(
            action="counselling.roleplay.signed_off",
            actor=by,
            obj=assessment,
            payload={"passed": assessment.passed},
        )
    return assessment


def certification_grant(*, counsellor: CounsellorProfile, by: Actor | User) -> Certification:
    """Certify a counsellor who attended every core module and passed the role-play."""
    _check_reach(counsellor, by)
    gaps = training_gaps(counsellor=counsellor)
    if gaps:
        raise ValidationError(
            _("Not ready for certification: %(gaps)s") % {"gaps": ", ".join(gaps)}, code="not_ready"
        )
    now = timezone.now()
    with transaction.atomic():
        cert = Certification.objects.create(
            organisation_id=counsellor.organisation_id,
            counsellor=counsellor,
            granted_by=user_of(by),
            granted_at=now,
            valid_until=now + timedelta(days=settings.CERTIFICATION_VALID_DAYS),
        )
        audit_log(action="counselling.certification.granted", actor=by, obj=cert)
    return cert


def certification_grant_unchecked(
    *, counsellor: CounsellorProfile, by: Actor | User | None, granted_at: datetime | None = None
) -> Certification:
    """For imports of counsellors trained before RareBridge (and the demo): no training check."""
    now = granted_at or timezone.now()
    with transaction.atomic():
        cert = Certification.objects.create(
            organisation_id=counsellor.organisation_id,
            counsellor=counsellor,
            granted_by=user_of(by) or counsellor.user,
            granted_at=now,
            valid_until=now + timedelta(days=settings.CERTIFICATION_VALID_DAYS),
        )
        audit_log(action="counselling.certification.imported", actor=by, obj=cert)
    return cert


def certification_revoke(*, certification: Certification, by: Actor | User, reason: str) -> None:
    with transaction.atomic():
        certification.revoked_at = timezone.now()
        certification.save(update_fields=["revoked_at", "updated_at"])
        audit_log(
            action="counselling.certification.revoked",
            actor=by,
            obj=certification,
            payload={"reason": reason},
        )


def training_curriculum_load(*, path) -> int:
    """Load a training curriculum file (content/training/*.json). Safe to run again."""
    data = json.loads(path.read_text(encoding="utf-8"))
    with transaction.atomic():
        for position, module in enumerate(data["modules"]):
            TrainingModule.objects.update_or_create(
                curriculum=data["curriculum"],
                code=module["code"],
                defaults={
                    "day": module["day"],
                    "position": position,
                    "titles": module["title"],
                    "objectives": module["objectives"],
                    "is_refresher": module.get("refresher", False),
                },
            )
    return len(data["modules"])
