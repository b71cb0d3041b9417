import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from rarebridge.core.models import AuditEntry
from rarebridge.notify.models import Message
from tests.factories import CrisisResourceFactory

PASSWORD = "correct horse battery"


def test_it_shows_the_landing_page_to_visitors_and_sends_people_home(cast, as_user):
    assert Client().get("/").status_code == 200
    response = as_user(cast.patient.user).get("/")
    assert response.status_code == 302 and response.url == reverse("portals:home")


def test_it_refuses_the_wrong_method_on_public_pages(cast):
    assert Client().post(reverse("public:help")).status_code == 405
    assert Client().get(reverse("public:set_language")).status_code == 405


def test_it_routes_each_role_to_its_home(cast, as_user):
    home = reverse("portals:home")
    assert as_user(cast.patient.user).get(home).url == reverse("patient:home")
    assert as_user(cast.counsellor).get(home).url == reverse("counsellor:home")
    assert as_user(cast.supervisor).get(home).url == reverse("staff:home")


def test_it_shows_the_crisis_resources_of_the_patients_country_emergency_first(cast, as_user):
    CrisisResourceFactory(country_id="DE", name="TelefonSeelsorge", position=1)
    CrisisResourceFactory(
        country_id="DE", name="Emergency 112", phone="112", kind="emergency", position=5
    )
    CrisisResourceFactory(country_id="CA", name="988 Helpline", phone="988")
    html = as_user(cast.patient.user).get(reverse("public:help")).content.decode()
    assert html.index("Emergency 112") < html.index("TelefonSeelsorge")
    assert "988 Helpline" not in html
    assert 'href="tel:112"' in html


def test_it_puts_the_help_link_on_every_patient_page(cast, as_user):
    client = as_user(cast.patient.user)
    for name in ("patient:home", "patient:messages", "public:preferences", "public:help"):
        assert reverse("public:help") in client.get(reverse(name)).content.decode(), name


def test_it_lets_a_visitor_pick_a_country_for_help(cast):
    CrisisResourceFactory(country_id="CA", name="988 Helpline", phone="988")
    html = Client().get(reverse("public:help"), {"country": "ca"}).content.decode()
    assert "988 Helpline" in html


def test_it_saves_preferences_through_the_service_with_an_audit_entry(cast, as_user):
    user = cast.patient.user
    response = as_user(user).post(
        reverse("public:preferences"),
        {
            "full_name": "Anna Schmidt",
            "preferred_name": "Anni",
            "language": "de",
            "time_zone": "America/Toronto",
            "phone": "040 1234567",
            "text_size": "large",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.language, user.time_zone, user.phone, user.text_size) == (
        "de",
        "America/Toronto",
        "+49401234567",
        "large",
    )
    entry = AuditEntry.objects.get(action="accounts.preferences.changed")
    assert entry.payload["fields"] == [
        "language",
        "phone",
        "preferred_name",
        "text_size",
        "time_zone",
    ]
    assert "+49401234567" not in str(entry.payload)  # values stay out of the log


def test_it_keeps_everything_typed_when_the_phone_is_invalid(cast, as_user):
    response = as_user(cast.patient.user).post(
        reverse("public:preferences"),
        {
            "full_name": "Anna Schmidt",
            "preferred_name": "Anni",
            "language": "en",
            "time_zone": "Europe/Berlin",
            "phone": "12",
            "text_size": "normal",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "error-summary" in html and "valid phone number" in html
    assert 'value="Anni"' in html and 'value="12"' in html
    cast.patient.user.refresh_from_db()
    assert cast.patient.user.preferred_name == ""


def test_it_sends_visitors_to_sign_in_for_preferences(db):
    response = Client().get(reverse("public:preferences"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_it_switches_language_for_visitors_by_cookie_and_for_people_in_their_profile(cast, as_user):
    visitor = Client()
    visitor.post(reverse("public:set_language"), {"language": "pl", "next": "/help/"})
    assert 'lang="pl"' in visitor.get("/help/").content.decode()
    client = as_user(cast.patient.user)
    response = client.post(
        reverse("public:set_language"), {"language": "hu", "next": "https://evil.example/"}
    )
    assert response.url == "/"  # never redirects off-site
    cast.patient.user.refresh_from_db()
    assert cast.patient.user.language == "hu"
    assert AuditEntry.objects.filter(
        action="accounts.preferences.changed", actor=cast.patient.user
    ).exists()


def test_it_uses_the_browser_language_for_visitors(db):
    html = Client(HTTP_ACCEPT_LANGUAGE="fr-BE,fr;q=0.9").get("/").content.decode()
    assert 'lang="fr"' in html


def test_it_answers_an_unknown_url_with_a_friendly_404_in_the_persons_language(cast, as_user):
    cast.patient.user.language = "de"
    cast.patient.user.save()
    response = as_user(cast.patient.user).get("/no/such/page/")
    assert response.status_code == 404
    assert 'lang="de"' in response.content.decode()


def test_it_shows_a_friendly_page_on_csrf_failure(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.patient.user)
    response = client.post(reverse("public:preferences"), {"full_name": "x"})
    assert response.status_code == 403
    assert "Please try again" in response.content.decode()


def test_it_hides_the_outbox_outside_demo_mode(db):
    assert Client().get(reverse("public:demo_outbox")).status_code == 404


@override_settings(DEMO_MODE=True)
def test_it_shows_the_outbox_in_demo_mode(db):
    from rarebridge.notify.models import OutboxItem

    OutboxItem.objects.create(
        channel="sms", to_address="+4915112345678", body="Your call is tomorrow"
    )
    assert "Your call is tomorrow" in Client().get(reverse("public:demo_outbox")).content.decode()


@pytest.mark.parametrize("lang", ["en", "de", "pl", "nl", "hu", "fr"])
def test_it_serves_every_role_home_in_each_language(cast, as_user, lang):
    for user in (cast.patient.user, cast.counsellor, cast.supervisor, cast.coordinator, cast.admin):
        user.language = lang
        user.save()
        response = as_user(user).get(reverse("portals:home"), follow=True)
        assert response.status_code == 200
        assert f'lang="{lang}"' in response.content.decode()


def test_it_answers_a_server_error_with_a_page_that_keeps_the_help_link(cast, rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert 'href="/help/"' in response.content.decode()


def _link(to: str) -> str:
    message = Message.objects.filter(template_key="email_change_confirm", to_address=to).latest(
        "pk"
    )
    found = re.search(r"(/accounts/confirm-email/\S+)", message.body)
    assert found, message.body
    return found.group(1)


def test_it_changes_the_sign_in_address_only_once_the_new_one_is_confirmed(cast, as_user):
    user = cast.patient.user
    old = user.email
    client = as_user(user)
    url = reverse("public:email_change")
    assert old in client.get(reverse("public:preferences")).content.decode()

    wrong = client.post(url, {"email": "anna.new@example.org", "password": "not it"})
    assert wrong.status_code == 422 and "not your current password" in wrong.content.decode()
    assert 'value="anna.new@example.org"' in wrong.content.decode()
    taken = client.post(url, {"email": cast.counsellor.email, "password": PASSWORD})
    assert taken.status_code == 422 and "cannot be used here" in taken.content.decode()

    asked = client.post(url, {"email": "Anna.New@example.org", "password": PASSWORD})
    assert asked.status_code == 302
    user.refresh_from_db()
    assert user.email == old  # nothing changes until the link is opened
    assert "anna.new@example.org" in client.get(url).content.decode()  # shown as waiting

    confirmed = client.post(_link("anna.new@example.org"))
    assert confirmed["Location"] == reverse("public:preferences")
    user.refresh_from_db()
    assert user.email == "anna.new@example.org"
    told = Message.objects.get(template_key="email_changed")
    assert told.to_address == old and "anna.new@example.org" in told.body
    assert Client().login(email="anna.new@example.org", password=PASSWORD)
    actions = set(
        AuditEntry.objects.filter(object_id=str(user.pk)).values_list("action", flat=True)
    )
    assert {"accounts.email.change_requested", "accounts.email.changed"} <= actions


def test_a_newer_change_request_replaces_an_older_one(cast, as_user):
    user = cast.patient.user
    client = as_user(user)
    url = reverse("public:email_change")
    client.post(url, {"email": "first@example.org", "password": PASSWORD})
    first = _link("first@example.org")
    with override_settings(ACCOUNT_RATE_LIMITS={"confirm_email": "10/m/key"}):
        client.post(url, {"email": "second@example.org", "password": PASSWORD})
    client.post(first)  # the older link no longer leads anywhere
    user.refresh_from_db()
    assert user.email != "first@example.org"
    client.post(_link("second@example.org"))
    user.refresh_from_db()
    assert user.email == "second@example.org"
