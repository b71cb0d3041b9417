"""Directory verification and the peer-finder report queue, mounted at /staff/directory/.

Program admins (``DIRECTORY_VERIFY``) check suggested and stale entries, edit, verify or
reject them; moderators (``PEER_MODERATE``) acknowledge and close reports. Thin: a selector
checks access, a service makes the change.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rarebridge.directory.forms import EntryEditForm
from rarebridge.directory.selectors import (
    QUEUES,
    entries_for_verifier,
    entry_get_for_verifier,
    queue_counts,
    report_get_for_moderator,
    report_messages,
    reports_for_moderator,
)
from rarebridge.directory.services import (
    entry_duplicates,
    entry_reject,
    entry_update,
    entry_verify,
    report_acknowledge,
    report_close,
)
from rarebridge.portals.decorators import staff_required
from rarebridge.portals.staff.forms.directory import CloseReportForm, RejectForm

PAGE_SIZE = 50


@require_GET
@staff_required
def entries(request):
    queue = request.GET.get("queue", "suggested")
    if queue not in QUEUES:
        queue = "suggested"
    items = entries_for_verifier(by=request.actor, queue=queue)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/directory/entries.html",
        {
            "page": page,
            "queue": queue,
            "queues": [(q, n) for q, n in queue_counts(by=request.actor).items()],
            "query": f"queue={queue}",
        },
    )


def _entry_page(request, entry, form, reject_form=None, status=200):
    return render(
        request,
        "staff/directory/entry.html",
        {
            "entry": entry,
            "form": form,
            "reject_form": reject_form or RejectForm(),
            "duplicates": entry_duplicates(name=entry.name, website=entry.website, exclude=entry),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def entry(request, pk: int):
    item = entry_get_for_verifier(by=request.actor, id=pk)
    language = request.POST.get("text_language") or request.GET.get("lang") or get_language()
    if request.method == "POST":
        form = EntryEditForm(request.POST, language=language)
        if form.is_valid():
            try:
                entry_update(entry=item, data=form.to_data(), by=request.actor)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("The entry is saved."))
                return redirect("directory_admin:entry", pk=item.pk)
        return _entry_page(request, item, form, status=422)
    form = EntryEditForm(initial=EntryEditForm.initial_for(item, language), language=language)
    return _entry_page(request, item, form)


@require_POST
@staff_required
def verify(request, pk: int):
    item = entry_get_for_verifier(by=request.actor, id=pk)
    try:
        entry_verify(entry=item, by=request.actor)
    except ValidationError as exc:
        for problem in exc.messages:
            messages.error(request, problem)
        return redirect("directory_admin:entry", pk=item.pk)
    messages.success(request, _("The entry is verified and public."))
    return redirect(f"{reverse('directory_admin:entries')}?queue=suggested")


@require_POST
@staff_required
def reject(request, pk: int):
    item = entry_get_for_verifier(by=request.actor, id=pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        language = get_language()
        edit = EntryEditForm(initial=EntryEditForm.initial_for(item, language), language=language)
        return _entry_page(request, item, edit, reject_form=form, status=422)
    entry_reject(entry=item, by=request.actor, note=form.cleaned_data["note"])
    messages.success(request, _("The entry is rejected."))
    return redirect(f"{reverse('directory_admin:entries')}?queue=suggested")


@require_GET
@staff_required
def reports(request):
    page = Paginator(reports_for_moderator(by=request.actor), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "staff/directory/reports.html", {"page": page})


@require_GET
@staff_required
def report(request, pk: int):
    item = report_get_for_moderator(by=request.actor, id=pk)
    return render(
        request,
        "staff/directory/report.html",
        {"report": item, "thread": report_messages(report=item), "form": CloseReportForm()},
    )


@require_POST
@staff_required
def report_acknowledge_view(request, pk: int):
    item = report_get_for_moderator(by=request.actor, id=pk)
    report_acknowledge(report=item, by=request.actor)
    messages.success(request, _("The report is acknowledged; the reporter has been told."))
    return redirect("directory_admin:report", pk=pk)


@require_POST
@staff_required
def report_close_view(request, pk: int):
    item = report_get_for_moderator(by=request.actor, id=pk)
    form = CloseReportForm(request.POST)
    if form.is_valid():
        report_close(
            report=item,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            by=request.actor,
        )
        messages.success(request, _("The report is closed; the reporter has been told."))
        return redirect("directory_admin:reports")
    return render(
        request,
        "staff/directory/report.html",
        {"report": item, "thread": report_messages(report=item), "form": form},
        status=422,
    )
