"""Supervision of calls: a counsellor's calls with their notes, and one note to read.

Supervisors read notes and never change them; every note read is written to the audit log.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from rarebridge.core.permissions import Perm
from rarebridge.counselling.selectors import (
    call_get_for_user,
    calls_for_supervision,
    counsellor_get_for_supervisor,
    note_for_call,
)
from rarebridge.portals.decorators import perm_required
from rarebridge.programs.selectors import guideline_in_language

CALLS_SHOWN = 200


@require_GET
@perm_required(Perm.SUPERVISION_VIEW)
def counsellor_calls(request, pk: int):
    profile = counsellor_get_for_supervisor(user=request.user, id=pk)
    calls = calls_for_supervision(user=request.user, counsellor_id=profile.pk)[:CALLS_SHOWN]
    return render(
        request, "staff/safety/counsellor_calls.html", {"profile": profile, "calls": calls}
    )


@require_GET
@perm_required(Perm.SUPERVISION_VIEW)
def call_note(request, pk: int):
    call = call_get_for_user(user=request.user, id=pk, by=request.actor)
    guideline, _fallback = guideline_in_language(
        version=call.enrolment.version, week=call.week, language=get_language()
    )
    return render(
        request,
        "staff/safety/call_note.html",
        {
            "call": call,
            "note": note_for_call(call=call, by=request.actor),
            "guideline": guideline,
        },
    )
