"""The peer finder for patients, mounted at /me/peers/: my condition, joining and leaving,
how many peers there are (never who), contact requests with double opt-in, messages inside
RareBridge, blocking and reporting; and, from week 6, the organisations and groups that fit.

Thin: a selector reads what belongs to the signed-in patient, one service writes.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rarebridge.core.permissions import Perm
from rarebridge.directory.models import ContactRequest
from rarebridge.directory.selectors import (
    closing_resources_for,
    condition_get,
    condition_search,
    contact_get_for,
    contacts_for,
    patient_condition_get,
    patient_conditions_for,
    peer_counts_for,
    peer_profile_for,
)
from rarebridge.directory.services import (
    PeerUnavailable,
    contact_message_send,
    contact_request_cancel,
    contact_request_respond,
    contact_request_send,
    contact_share_set,
    finder_join,
    finder_withdraw,
    patient_condition_remove,
    patient_condition_set,
    peer_block,
    peer_report,
)
from rarebridge.portals.decorators import perm_required
from rarebridge.portals.patient.forms.peers import JoinForm, MessageForm, ReportForm, RequestForm


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@require_GET
@perm_required(Perm.OWN_CARE)
def home(request):
    profile = peer_profile_for(by=request.actor)
    return render(
        request,
        "patient/peers/home.html",
        {
            "profile": profile,
            "conditions": patient_conditions_for(by=request.actor),
            "counts": peer_counts_for(by=request.actor),
            "contacts": contacts_for(by=request.actor),
            "closing": closing_resources_for(by=request.actor),
        },
    )


@require_http_methods(["GET", "POST"])
@perm_required(Perm.OWN_CARE)
def conditions(request):
    """Find my condition in the catalogue (any language, typos welcome) and add it."""
    if request.method == "POST":
        try:
            condition = condition_get(orphacode=int(request.POST.get("condition", "0")))
        except (ValueError, Http404):
            condition = None
        if condition is None:
            messages.error(request, _("Please choose a condition from the list."))
            return redirect("peers:conditions")
        patient_condition_set(
            patient=request.user.patient_profile,
            condition=condition,
            by=request.actor,
        )
        messages.success(request, _("Your condition is saved."))
        return redirect("peers:home")
    q = request.GET.get("q", "").strip()[:200]
    matches = condition_search(query=q, language=get_language()) if q else []
    return render(
        request,
        "patient/peers/conditions.html",
        {"q": q, "matches": matches, "current": patient_conditions_for(by=request.actor)},
    )


@require_POST
@perm_required(Perm.OWN_CARE)
def condition_remove(request, pk: int):
    link = patient_condition_get(by=request.actor, id=pk)
    try:
        patient_condition_remove(link=link, by=request.actor)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The condition was removed."))
    return redirect("peers:conditions")


@require_http_methods(["GET", "POST"])
@perm_required(Perm.OWN_CARE)
def join(request):
    links = patient_conditions_for(by=request.actor)
    if not links:
        messages.info(request, _("First tell us which condition you live with."))
        return redirect("peers:conditions")
    profile = peer_profile_for(by=request.actor)
    initial = {
        "languages": [request.user.language],
        "alias": request.user.display_name,
        "condition": links[0].condition_id,
    }
    if profile is not None:
        initial.update(
            condition=profile.condition_id,
            scope=profile.scope,
            alias=profile.alias,
            languages=profile.language_codes or [request.user.language],
        )
    form = JoinForm(
        request.POST or None, initial=initial, conditions=[link.condition for link in links]
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            finder_join(
                patient=request.user.patient_profile,
                condition=form.conditions[data["condition"]],
                languages=data["languages"],
                alias=data["alias"],
                scope=data["scope"],
                by=request.actor,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("You are now findable in the peer finder."))
            return redirect("peers:home")
    return render(
        request,
        "patient/peers/join.html",
        {"form": form, "profile": profile},
        status=422 if form.errors else 200,
    )


@require_POST
@perm_required(Perm.OWN_CARE)
def leave(request):
    profile = peer_profile_for(by=request.actor)
    if profile is not None:
        finder_withdraw(profile=profile, by=request.actor)
    messages.success(
        request,
        _(
            "You have left the peer finder. Nobody can find you any more, and your open requests are closed."
        ),
    )
    return redirect("peers:home")


@require_http_methods(["GET", "POST"])
@perm_required(Perm.OWN_CARE)
def ask(request):
    profile = peer_profile_for(by=request.actor)
    if profile is None or not profile.is_active:
        messages.info(request, _("Join the peer finder first: then others can say yes to you too."))
        return redirect("peers:join")
    form = RequestForm(request.POST or None, initial={"scope": profile.scope})
    if request.method == "POST" and form.is_valid():
        try:
            contact = contact_request_send(
                requester=profile,
                scope=form.cleaned_data["scope"],
                note=form.cleaned_data["note"],
                by=request.actor,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if contact.status == ContactRequest.Status.PENDING:
                messages.success(
                    request,
                    _(
                        "We have found someone and asked them. You will hear from us when they answer."
                    ),
                )
            else:
                messages.success(
                    request,
                    _(
                        "Nobody is free right now. Your request waits, and we will ask the next person who fits."
                    ),
                )
            return redirect("peers:contact", pk=contact.pk)
    return render(
        request,
        "patient/peers/ask.html",
        {"form": form, "profile": profile},
        status=422 if form.errors else 200,
    )


def _contact_page(request, view, *, message_form=None, status=200):
    return render(
        request,
        "patient/peers/contact.html",
        {
            "view": view,
            "contact": view.contact,
            "message_form": message_form or MessageForm(),
        },
        status=status,
    )


@require_GET
@perm_required(Perm.OWN_CARE)
def contact(request, pk: int):
    return _contact_page(request, contact_get_for(by=request.actor, id=pk))


@require_POST
@perm_required(Perm.OWN_CARE)
def respond(request, pk: int):
    view = contact_get_for(by=request.actor, id=pk)
    accept = request.POST.get("answer") == "accept"
    try:
        contact_request_respond(contact=view.contact, accept=accept, by=request.actor)
    except PeerUnavailable as exc:
        messages.info(request, " ".join(exc.messages))
    else:
        if accept:
            messages.success(request, _("You are connected. You can now write to each other here."))
        else:
            messages.success(request, _("You declined. Nothing about you was shared."))
    return redirect("peers:contact", pk=pk)


@require_POST
@perm_required(Perm.OWN_CARE)
def cancel(request, pk: int):
    view = contact_get_for(by=request.actor, id=pk)
    try:
        contact_request_cancel(contact=view.contact, by=request.actor)
    except PeerUnavailable as exc:
        messages.info(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Your request is cancelled."))
    return redirect("peers:home")


@require_POST
@perm_required(Perm.OWN_CARE)
def message(request, pk: int):
    view = contact_get_for(by=request.actor, id=pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            contact_message_send(
                contact=view.contact,
                body=form.cleaned_data["body"],
                by=request.actor,
            )
        except PeerUnavailable as exc:
            messages.info(request, " ".join(exc.messages))
            return redirect("peers:contact", pk=pk)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return redirect("peers:contact", pk=pk)
    return _contact_page(
        request, contact_get_for(by=request.actor, id=pk), message_form=form, status=422
    )


@require_POST
@perm_required(Perm.OWN_CARE)
def share(request, pk: int):
    view = contact_get_for(by=request.actor, id=pk)
    try:
        contact_share_set(
            contact=view.contact,
            email=request.POST.get("share_email") == "on",
            phone=request.POST.get("share_phone") == "on",
            by=request.actor,
        )
    except PeerUnavailable as exc:
        messages.info(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Your choice is saved."))
    return redirect("peers:contact", pk=pk)


@require_POST
@perm_required(Perm.OWN_CARE)
def block(request, pk: int):
    view = contact_get_for(by=request.actor, id=pk)
    try:
        peer_block(contact=view.contact, by=request.actor)
    except PeerUnavailable as exc:
        messages.info(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _(
                "You have blocked this person. They cannot write to you, and you will not be matched again."
            ),
        )
    return redirect("peers:contact", pk=pk)


@require_http_methods(["GET", "POST"])
@perm_required(Perm.OWN_CARE)
def report(request, pk: int):
    view = contact_get_for(by=request.actor, id=pk)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            peer_report(
                contact=view.contact,
                reason=form.cleaned_data["reason"],
                details=form.cleaned_data["details"],
                by=request.actor,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Thank you. Your report has reached the moderators, and you will hear from them."
                ),
            )
            return redirect("peers:contact", pk=pk)
    return render(
        request,
        "patient/peers/report.html",
        {"form": form, "view": view},
        status=422 if form.errors else 200,
    )


@require_GET
@perm_required(Perm.OWN_CARE)
def organisations(request):
    return render(
        request,
        "patient/peers/organisations.html",
        {"closing": closing_resources_for(by=request.actor)},
    )
