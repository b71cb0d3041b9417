"""Joining a study without an account: the public self-referral and eligibility checklist."""

from __future__ import annotations

import json

from allauth.core import ratelimit
from django.contrib.auth import login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods
from django_scopes import scope

from rarebridge.core.actor import Actor
from rarebridge.network.selectors import crisis_resources_for_country
from rarebridge.portals.public.forms.join import SelfReferralForm
from rarebridge.trials.content import EXCLUSION
from rarebridge.trials.selectors import open_study_public, public_studies
from rarebridge.trials.services import Contact, screening_record

CRITERIA_LABELS = {
    "adult": _("I am 18 years or older."),
    "wants_support": _("I would like psychosocial support."),
    "life_threatening": _("My health is in a life-threatening state at the moment."),
    "acute_suicidality": _("I am having thoughts of ending my life at the moment."),
    "ongoing_psychotherapy": _("I am currently in psychotherapy."),
    "insufficient_language": _(
        "I cannot read and talk comfortably in any of the languages offered."
    ),
    "cognitive_impairment": _(
        "I have a severe difficulty with memory or thinking that a doctor has diagnosed."
    ),
}


@require_GET
def study_list(request):
    return render(request, "trials/public_list.html", {"studies": public_studies()})


@require_http_methods(["GET", "POST"])
def self_referral(request, slug: str):
    """The eligibility checklist; an eligible person gets an account and goes on to consent."""
    study = open_study_public(slug=slug)
    with scope(organisation=[study.organisation_id]):
        form = SelfReferralForm(request.POST or None, study=study)
        if (
            request.method == "POST"
            and form.is_valid()
            and not ratelimit.consume(request, action="trial_join")
        ):
            # The error makes the form invalid, so the page below shows it with everything kept.
            form.add_error(
                None,
                _(
                    "Too many sign-ups from this connection. Please try again in an hour; your answers are still here."
                ),
            )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            site = form.study_sites[data["site"]].site
            answers = {k: data.get(k) for k in ("adult", "wants_support", *EXCLUSION)}
            answers["diagnosis"] = data["diagnosis"]
            contact = None
            if data["full_name"] and data["email"] and data["password"]:
                contact = Contact(
                    full_name=data["full_name"],
                    email=data["email"],
                    language=data["language"],
                    time_zone=site.time_zone,
                    password=data["password"],
                )
                try:
                    validate_password(data["password"])
                except ValidationError as error:
                    form.add_error("password", error)
            if not form.errors:
                try:
                    outcome = screening_record(
                        study=study,
                        site=site,
                        answers=answers,
                        contact=contact,
                        # Always a self-referral, even for someone signed in: the
                        # person is nobody to the study yet; the address is kept.
                        by=Actor(ip=request.actor.ip, request_id=request.actor.request_id),
                    )
                except ValidationError as error:
                    if getattr(error, "code", "") == "contact":
                        form.add_error(
                            None, _("Please give your name, e-mail address and a password.")
                        )
                    else:
                        form.add_error(None, error)
                else:
                    if outcome.user is not None:
                        login(
                            request,
                            outcome.user,
                            backend="django.contrib.auth.backends.ModelBackend",
                        )
                        return redirect("trials_patient:home")
                    resources = (
                        list(crisis_resources_for_country(country_code=site.country_id))
                        if outcome.crisis
                        else []
                    )
                    return render(
                        request,
                        "trials/public_not_eligible.html",
                        {
                            "study": study,
                            "reasons": outcome.record.reasons,
                            "crisis": outcome.crisis,
                            "resources": resources,
                        },
                    )
        countries = {s.site.country_id: s.site.country for s in form.study_sites.values()}
        crisis = [
            (country, list(crisis_resources_for_country(country_code=code)))
            for code, country in sorted(countries.items())
        ]
        return render(
            request,
            "trials/public_join.html",
            {
                "study": study,
                "form": form,
                "crisis": crisis,
                "site_countries_json": json.dumps(
                    {key: s.site.country_id for key, s in form.study_sites.items()}
                ),
            },
        )
