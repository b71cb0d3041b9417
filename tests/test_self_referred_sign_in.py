"""A self-referred participant signs in with the password they chose at /join/."""

from django.test import Client
from django.urls import reverse

from tests.test_trials_views import _join_data, study  # noqa: F401 - the study fixture


def test_a_self_referred_participant_signs_in_with_the_password_they_chose(study, cast):  # noqa: F811
    joined = Client().post(reverse("trials_public:join", args=[study.slug]), _join_data(cast))
    assert joined.status_code == 302
    response = Client().post(
        reverse("account_login"),
        {"login": "pia@example.org", "password": "a long enough passphrase 42"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
