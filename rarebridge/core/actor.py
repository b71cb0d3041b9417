"""Who acts, in which scope, and from where.

Every service takes the acting person as ``by``: an :class:`Actor`, or a plain user where no
request exists (commands, tasks, tests) — :func:`as_actor` turns either into an ``Actor``. The
HTTP request never reaches a service: the :class:`~rarebridge.core.middleware.ActorMiddleware`
builds ``request.actor`` once, with the client address as the trusted proxies report it and a
request id, and every audit entry takes its actor, organisation, address and request id from it.
"""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings
from django.http import HttpRequest

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"


def _valid_ip(value: str | None) -> str | None:
    """The address, or None when the text is no IP address (``unknown``, ``""``, markup)."""
    if not value:
        return None
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the configured number of trusted proxies report it.

    With ``TRUSTED_PROXY_COUNT = 0`` (no proxy) the socket's address is the client. Behind N
    proxies, each appends the address it received the request from to ``X-Forwarded-For``, so
    the client is the N-th entry from the right; anything further left was written by the
    client and is never trusted.
    """
    if request is None:
        return None
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return _valid_ip(hops[-proxies])
        return None
    return _valid_ip(request.META.get("REMOTE_ADDR"))


def request_id_for(request: HttpRequest) -> str:
    """The proxy's request id when it sends a sane one, else a new one."""
    given = request.META.get(REQUEST_ID_HEADER, "")
    if given and len(given) <= 64 and given.replace("-", "").isalnum():
        return given
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Actor:
    """The person (or the system) behind an action.

    ``user`` is None for the system itself (periodic tasks, imports). Roles, organisations and
    site scope are read from the user's active role assignments once and cached.
    """

    user: Any = None
    ip: str | None = None
    request_id: str = ""
    label: str = field(default="", compare=False)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(user=None, label=label)

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        user = getattr(request, "user", None)
        if user is not None and not user.is_authenticated:
            user = None
        return cls(user=user, ip=client_ip(request), request_id=request_id_for(request))

    @property
    def is_system(self) -> bool:
        return self.user is None

    @cached_property
    def roles(self) -> frozenset[str]:
        if self.user is None:
            return frozenset()
        return frozenset(a.role for a in self.user.active_roles())

    @cached_property
    def organisation_ids(self) -> list[int]:
        return [] if self.user is None else list(self.user.organisation_ids)

    @property
    def organisation_id(self) -> int | None:
        """The organisation the person acts for when it is one (most people have one)."""
        ids = self.organisation_ids
        return ids[0] if len(ids) == 1 else None

    @cached_property
    def site_ids(self) -> frozenset[int]:
        """Sites named by the person's role assignments (organisation-wide ones name none).

        This is not the person's reach: ``accounts.selectors.site_ids_for(by, perm)`` is the one
        place that says which sites a permission reaches (organisation-wide ones included)."""
        if self.user is None:
            return frozenset()
        return frozenset(a.site_id for a in self.user.active_roles() if a.site_id)

    def __str__(self) -> str:
        if self.user is None:
            return self.label or "system"
        return str(self.user)


def as_actor(by: Any) -> Actor:
    """An Actor for ``by``: an Actor stays itself, a user becomes one (no address), None is
    the system."""
    if isinstance(by, Actor):
        return by
    if by is None:
        return Actor.system()
    if not getattr(by, "is_authenticated", False):
        return Actor.system()
    return Actor(user=by)


def user_of(by: Any) -> Any:
    """The user behind ``by`` (an Actor or a user), or None for the system."""
    return as_actor(by).user
