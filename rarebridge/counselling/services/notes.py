"""Call notes: writing, signing and amending."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.counselling.models import Call, CallNote, NoteAmendment

NOTE_FIELDS = (
    "held",
    "missed_code",
    "missed_reason",
    "duration_minutes",
    "topics",
    "engagement",
    "agreed_next",
    "risk",
    "text",
)


def note_save(*, call: Call, by: Actor | User, sign: bool = False, **fields) -> CallNote:
    """Write (or update, until signed) the note of a call; signing locks it."""
    unknown = set(fields) - set(NOTE_FIELDS)
    if unknown:
        raise ValueError(f"Not a note field: {sorted(unknown)}")
    if fields.get("held") is True and not call.has_started:
        # Only what happened counts: a call is held from its start time on, never before.
        raise ValidationError(
            _("This call has not started yet. You can record it from its start time on."),
            code="not_started",
        )
    if fields.get("held") is False:
        code = fields.get("missed_code") or ""
        text = str(fields.get("missed_reason", "")).strip()
        if not code and text:
            fields["missed_code"] = code = CallNote.MissedReason.OTHER
        if code not in CallNote.MissedReason.values:
            raise ValidationError({"missed_code": _("Please say why the call did not take place.")})
        if code == CallNote.MissedReason.OTHER and not text:
            raise ValidationError({"missed_reason": _("Please describe the other reason.")})
    elif fields.get("held") is True:
        fields["missed_code"] = ""
    with transaction.atomic():
        note = CallNote.objects.select_for_update().filter(call=call).first()
        if note and note.signed_at:
            raise ValidationError(
                _("This note is signed. Add an amendment instead."), code="signed"
            )
        note = note or CallNote(
            call=call, organisation_id=call.organisation_id, written_by=user_of(by)
        )
        for key, value in fields.items():
            setattr(note, key, value)
        if sign:
            note.signed_at = timezone.now()
        note.save()
        Call.objects.filter(pk=call.pk).update(
            status=Call.Status.HELD if note.held else Call.Status.MISSED, updated_at=timezone.now()
        )
        audit_log(
            action="counselling.note.signed" if sign else "counselling.note.saved",
            actor=by,
            obj=note,
            payload={"held": note.held, "missed": note.missed_code, "risk": note.risk},
        )
    return note


def note_amend(*, note: CallNote, by: Actor | User, text: str) -> NoteAmendment:
    if not text.strip():
        raise ValidationError(_("Please write the amendment."), code="empty")
    with transaction.atomic():
        amendment = NoteAmendment.objects.create(note=note, author=user_of(by), text=text)
        audit_log(action="counselling.note.amended", actor=by, obj=note)
    return amendment
