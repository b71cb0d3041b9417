import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from rarebridge.accounts.mfa import totp_code
from rarebridge.accounts.models import PatientProfile, User
from rarebridge.accounts.services import invitation_accept, invitation_create, normalise_phone
from rarebridge.core.models import AuditEntry
from rarebridge.core.permissions import Role
from tests.conftest import TOTP_SECRET


def _code_from(body: str) -> str:
    """allauth's login code: the one line of the mail that is a short upper-case token."""
    lines = [line.strip() for line in body.splitlines()]
    return next(
        ln
        for ln in lines
        if 4 <= len(ln) <= 12 and ln.replace("-", "").isalnum() and ln.upper() == ln
    )


def _invite(cast, role=Role.PATIENT, site="default", by=None):
    return invitation_create(
        by=by or cast.coordinator,
        organisation=cast.org,
        role=role,
        email="new@example.org",
        full_name="Nina New",
        language="nl",
        site=cast.site if site == "default" else site,
    )


def test_it_accepts_an_invitation_and_creates_the_person_with_role_and_profile(cast):
    _invitation, token = _invite(cast)
    client = Client()
    response = client.post(
        reverse("public:invitation_accept", args=[token]),
        {
            "password1": "violet kettle harbour",
            "password2": "violet kettle harbour",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.org")
    assert user.language == "nl" and user.role_set() == {"patient"}
    profile = PatientProfile.objects.get(user=user)
    assert profile.site == cast.site and profile.code.startswith("RB-HAM-")
    assert AuditEntry.objects.filter(action="accounts.invitation.accepted", actor=user).exists()
    # The link works once.
    assert client.get(reverse("public:invitation_accept", args=[token])).status_code == 410


def test_it_refuses_a_weak_or_mismatched_password_and_keeps_the_invitation_open(cast):
    invitation, token = _invite(cast)
    response = Client().post(
        reverse("public:invitation_accept", args=[token]),
        {"password1": "12345", "password2": "12345"},
    )
    assert response.status_code == 200 and "error-summary" in response.content.decode()
    # The page speaks the invitation's language (Dutch) unless the person switched: this one
    # chose English with the language switcher.
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = english.post(
        reverse("public:invitation_accept", args=[token]),
        {"password1": "violet kettle harbour", "password2": "other"},
    )
    assert "not the same" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.is_open


def test_it_refuses_an_expired_or_revoked_invitation(cast):
    invitation, token = _invite(cast)
    invitation.expires_at = timezone.now() - timedelta(minutes=1)
    invitation.save()
    assert Client().get(reverse("public:invitation_accept", args=[token])).status_code == 410
    with pytest.raises(ValidationError):
        invitation_accept(invitation=invitation, password="violet kettle harbour")


def test_it_answers_404_for_an_unknown_token(db):
    assert Client().get(reverse("public:invitation_accept", args=["nope"])).status_code == 404


def test_it_stores_only_a_hash_of_the_token(cast):
    invitation, token = _invite(cast)
    assert token not in invitation.token_hash


def test_it_refuses_invitations_beyond_the_inviters_rights(cast):
    with pytest.raises(PermissionDenied):
        _invite(cast, role=Role.SUPERVISOR)
    with pytest.raises(PermissionDenied):
        _invite(cast, by=cast.counsellor)
    with pytest.raises(ValidationError):
        _invite(cast, site=None)


def test_it_has_no_open_sign_up(db):
    response = Client().get(reverse("account_signup"))
    assert "closed" in response.content.decode().lower() or response.status_code in (403, 404)


def test_it_signs_a_patient_in_with_a_password(cast):
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": "anna@example.org", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    assert client.get(reverse("patient:home")).status_code == 200


def test_it_offers_patients_a_one_time_code_by_email(cast, mailoutbox):
    client = Client()
    response = client.post(reverse("account_request_login_code"), {"email": "anna@example.org"})
    assert response.status_code == 302
    (mail,) = mailoutbox
    assert mail.to == ["anna@example.org"]
    code = _code_from(mail.body)
    response = client.post(reverse("account_confirm_login_code"), {"code": code}, follow=True)
    assert response.redirect_chain and client.get(reverse("patient:home")).status_code == 200


def test_it_asks_staff_for_the_authenticator_code_after_the_password(cast):
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": "sam@example.org", "password": "correct horse battery"}
    )
    assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(TOTP_SECRET)})
    assert response.status_code == 302
    assert client.get(reverse("staff:home")).status_code == 200


def test_it_accepts_the_code_of_the_step_that_just_ended_but_not_older_or_reused(cast):
    if time.time() % 30 > 25:  # keep the three sign-ins inside one 30-second step
        time.sleep(30.1 - time.time() % 30)
    now = time.time()

    def code_from(seconds_ago: int) -> bool:
        client = Client()
        client.post(
            reverse("account_login"),
            {"login": "sam@example.org", "password": "correct horse battery"},
        )
        code = totp_code(TOTP_SECRET, at=now - seconds_ago)
        client.post(reverse("mfa_authenticate"), {"code": code})
        return client.get(reverse("staff:home")).status_code == 200

    assert not code_from(65)
    assert code_from(30)
    assert not code_from(30), "a code works only once"


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "100/m/ip,3/300s/key"})
def test_it_locks_out_repeated_failures_without_revealing_whether_the_account_exists(cast):
    def attempts(email):
        client = Client()
        pages = [
            client.post(
                reverse("account_login"), {"login": email, "password": "wrong"}
            ).content.decode()
            for _ in range(5)
        ]
        return pages[-1]

    existing, unknown = attempts("anna@example.org"), attempts("nobody@example.org")
    assert "Too many failed login attempts" in existing
    assert "Too many failed login attempts" in unknown
    # The lock holds even with the right password.
    response = Client().post(
        reverse("account_login"), {"login": "anna@example.org", "password": "correct horse battery"}
    )
    assert response.status_code == 200


def test_it_ends_a_staff_session_after_idle_time_but_not_a_patients(cast, as_user, settings):
    settings.STAFF_IDLE_TIMEOUT_MINUTES = 30
    staff_client = as_user(cast.supervisor)
    assert staff_client.get(reverse("staff:home")).status_code == 200
    session = staff_client.session
    session["rarebridge_last_seen"] = time.time() - 31 * 60
    session.save()
    response = staff_client.get(reverse("staff:home"))
    assert response.status_code == 302 and reverse("account_login") in response.url
    patient_client = as_user(cast.patient.user)
    session = patient_client.session
    session["rarebridge_last_seen"] = time.time() - 31 * 60
    session.save()
    assert patient_client.get(reverse("patient:home")).status_code == 200


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+49 40 1234567", None, "+49401234567"),
        ("040 1234567", "DE", "+49401234567"),
        ("416 12", "CA", None),
    ],
)
def test_it_normalises_phone_numbers_to_e164(raw, country, expected):
    if expected is None:
        with pytest.raises(ValidationError):
            normalise_phone(raw, country_code=country)
    else:
        assert normalise_phone(raw, country_code=country) == expected
