"""Template filters for dates people read: weekday, date and time in the viewer's language."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.formats import date_format

register = template.Library()


@register.filter
def day(value) -> str:
    """'Thursday, 26 November 2026' in the active language and time zone."""
    if value is None:
        return ""
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        value = timezone.localtime(value)
    return f"{date_format(value, 'l')}, {date_format(value, 'DATE_FORMAT')}"


@register.filter
def when(value) -> str:
    """'Thursday, 26 November 2026, 17:30' in the active language and time zone."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{day(local)}, {date_format(local, 'H:i')}"
