"""Access decorators shared by the portals: they only ask the permission table."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from rarebridge.core.permissions import Perm, user_has_perm


def perm_required(perm: Perm):
    """The page exists only for people whose roles carry ``perm``; anyone else gets a 404,
    not a hint it exists."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not user_has_perm(request.user, perm):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def staff_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_staff_member:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped
