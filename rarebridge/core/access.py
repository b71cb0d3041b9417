"""One place that turns "may this person see this object?" into 404 or 403.

Selectors pass the queryset of what the person may read and, where a stronger need is asked
for, a test of that need. An object outside what they may read is *absent* (404: its
existence is not disclosed); one they may read but not change is *forbidden* (403).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from rarebridge.core.audit import audit_log

M = TypeVar("M", bound=models.Model)


def get_for_actor(
    readable: models.QuerySet[M],
    *,
    by: Any,
    allowed: Callable[[M], bool] | None = None,
    audit: str | None = None,
    payload: dict[str, Any] | None = None,
    **lookup: Any,
) -> M:
    """The one object of ``readable`` matching ``lookup``.

    - not in ``readable`` (absent, or out of the person's reach): ``Http404``;
    - ``allowed`` given and false for it: ``PermissionDenied``;
    - ``audit`` given: the read is written to the audit log under that action.
    """
    try:
        obj = readable.filter(**lookup).first()
    except (ValueError, TypeError):  # a malformed id is as absent as a missing one
        obj = None
    if obj is None:
        raise Http404
    if allowed is not None and not allowed(obj):
        raise PermissionDenied
    if audit:
        audit_log(action=audit, actor=by, obj=obj, payload=payload)
    return obj
