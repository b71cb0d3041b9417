"""Permission-checked reads about people. Views call these, never the ORM directly.

``*_get_for_user`` raises Http404 when the person may not see the object at all and
PermissionDenied when they may see it but not do what they asked (read-only access).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django_scopes import scopes_disabled

from rarebridge.accounts.models import Invitation, PatientProfile, User
from rarebridge.accounts.tokens import hash_token
from rarebridge.core.access import get_for_actor
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.models import AuditEntry
from rarebridge.core.permissions import (
    INVITABLE_ROLES,
    PATIENT_REACH,
    Perm,
    Role,
    role_has,
    user_has_perm,
)
from rarebridge.network.models import Organisation, Site


def _assignments_with(user: User, perm: Perm | None) -> list:
    if user is None or not user.is_authenticated:
        return []
    return [a for a in user.active_roles() if perm is None or role_has(Role(a.role), perm)]


def _organisation_site_ids(organisation_id: int) -> frozenset[int]:
    return frozenset(
        Site.objects.filter(organisation_id=organisation_id).values_list("pk", flat=True)
    )


def site_ids_for(by: Actor | User | None, perm: Perm | None = None) -> frozenset[int]:
    """The sites a person reaches with ``perm`` (with any role when None): the one place that
    computes reach. A site-scoped role assignment reaches its site; one marked
    ``organisation_wide``, or of a role organisation-wide by nature (trial manager, care
    coordinator, program admin), every site of its organisation. Cached on the user."""
    user = user_of(by)
    if user is None:
        return frozenset()
    cache = user.__dict__.setdefault("_site_reach", {})
    if perm not in cache:
        ids: set[int] = set()
        for assignment in _assignments_with(user, perm):
            if assignment.reaches_organisation:
                ids |= _organisation_site_ids(assignment.organisation_id)
            elif assignment.site_id:
                ids.add(assignment.site_id)
        cache[perm] = frozenset(ids)
    return cache[perm]


def organisation_wide_ids_for(by: Actor | User | None, perm: Perm | None = None) -> set[int]:
    """The organisations a person reaches as a whole with ``perm`` (every site, and what
    belongs to no site: organisation-level invitations, counsellors without a site)."""
    return {
        a.organisation_id for a in _assignments_with(user_of(by), perm) if a.reaches_organisation
    }


def sites_for(by: Actor | User | None, perm: Perm | None = None) -> QuerySet[Site]:
    """The sites a person reaches with ``perm`` (see :func:`site_ids_for`)."""
    return (
        Site.objects.filter(pk__in=site_ids_for(by, perm))
        .select_related("country", "organisation")
        .order_by("name")
    )


def reach_for(*, user: User) -> dict:
    """What the person's roles reach, for their home page: the whole organisation, or sites."""
    if organisation_wide_ids_for(user):
        return {"whole": True, "sites": []}
    return {"whole": False, "sites": [s.name for s in sites_for(user)]}


def _patient_filter(user: User, perm: Perm) -> Q | None:
    """A filter for the patients ``user`` reaches with ``perm``; None when none."""
    clauses = Q(pk__in=[])
    found = False
    for assignment in _assignments_with(user, perm):
        reach = PATIENT_REACH.get(Role(assignment.role))
        if reach == "assigned":
            clauses |= Q(
                organisation_id=assignment.organisation_id,
                assignments__counsellor=user,
                assignments__ended_at__isnull=True,
            )
        elif reach == "site" and assignment.reaches_organisation:
            clauses |= Q(organisation_id=assignment.organisation_id)
        elif reach == "site" and assignment.site_id:
            clauses |= Q(site_id=assignment.site_id)
        else:
            continue
        found = True
    return clauses if found else None


def patients_for_user(*, user: User, perm: Perm = Perm.PATIENT_VIEW) -> QuerySet[PatientProfile]:
    flt = _patient_filter(user, perm)
    if flt is None:
        return PatientProfile.objects.none()
    return (
        PatientProfile.objects.filter(flt)
        .distinct()
        .select_related("user", "site", "country", "organisation")
    )


def patients_page_for_user(
    *,
    user: User,
    query: str = "",
    page_number=None,
    per_page: int = 50,
    by: Actor | User | None = None,
):
    """One page of the patients in reach, searched by code or name. The ids shown are audited
    (``by`` gives the address and request id; the person is ``user``)."""
    patients = patients_for_user(user=user).order_by("code")
    if query:
        patients = patients.filter(Q(code__icontains=query) | Q(user__full_name__icontains=query))
    page = Paginator(patients, per_page).get_page(page_number)
    shown = [p.pk for p in page]
    if shown:
        audit_log(
            action="accounts.patient.listed",
            actor=by if by is not None else user,
            organisation_id=next(iter(user.organisation_ids), None),
            payload={"ids": shown, "query": query},
        )
    return page


def patient_get_for_user(
    *, user: User, id: int, need: Perm = Perm.PATIENT_VIEW, by: Actor | User | None = None
) -> PatientProfile:
    """One patient's identifiable record. Every successful read is written to the audit log
    (as ``by``, the person with their address, when given; else ``user``)."""

    def allowed(patient: PatientProfile) -> bool:
        return (
            need == Perm.PATIENT_VIEW
            or patients_for_user(user=user, perm=need).filter(pk=patient.pk).exists()
        )

    return get_for_actor(
        patients_for_user(user=user, perm=Perm.PATIENT_VIEW),
        by=by if by is not None else user,
        allowed=allowed,
        audit="accounts.patient.viewed",
        payload={"need": str(need)},
        pk=id,
    )


def invitable_roles_for(user: User) -> set[Role]:
    roles: set[Role] = set()
    for assignment in user.active_roles():
        roles |= INVITABLE_ROLES.get(Role(assignment.role), frozenset())
    return roles


def invitations_for_user(*, user: User) -> QuerySet[Invitation]:
    """Invitations into the sites the person reaches with PEOPLE_INVITE; those for no site
    (organisation-level) only for people who reach the whole organisation."""
    if not user_has_perm(user, Perm.PEOPLE_INVITE):
        return Invitation.objects.none()
    return Invitation.objects.filter(
        Q(site_id__in=site_ids_for(user, Perm.PEOPLE_INVITE))
        | Q(
            site__isnull=True,
            organisation_id__in=organisation_wide_ids_for(user, Perm.PEOPLE_INVITE),
        )
    ).select_related("site", "invited_by")


def invitation_get_for_user(*, user: User, id: int, by: Actor | User | None = None) -> Invitation:
    """One invitation in the person's reach (else 404)."""
    return get_for_actor(invitations_for_user(user=user), by=by or user, pk=id)


def invitation_get_by_token(*, token: str) -> Invitation:
    # The token is the credential: whoever holds it may see its invitation, signed in or not.
    with scopes_disabled():
        invitation = (
            Invitation.objects.filter(token_hash=hash_token(token))
            .select_related("organisation", "site")
            .first()
        )
    if invitation is None:
        raise Http404
    return invitation


def audit_entries_for_user(
    *,
    user: User,
    person: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from=None,
    date_to=None,
):
    """Audit entries of the user's organisations, filtered; only roles with AUDIT_VIEW."""
    if not user_has_perm(user, Perm.AUDIT_VIEW):
        raise PermissionDenied
    entries = AuditEntry.objects.filter(organisation_id__in=user.organisation_ids)
    if person:
        entries = entries.filter(actor_label__icontains=person)
    if action:
        entries = entries.filter(action__startswith=action)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if date_from:
        entries = entries.filter(at__date__gte=date_from)
    if date_to:
        entries = entries.filter(at__date__lte=date_to)
    return entries.order_by("-at", "-id")


def sites_for_user(*, user: User):
    """Every site of the person's organisations (for reach, see :func:`sites_for`)."""
    return Site.objects.filter(organisation_id__in=user.organisation_ids).select_related(
        "country", "organisation"
    )


def organisation_for_user(*, user: User):
    """The person's first organisation (most people have exactly one)."""
    ids = user.organisation_ids
    if not ids:
        raise PermissionDenied
    return Organisation.objects.get(pk=ids[0])


def email_confirmed(*, user: User) -> bool:
    """Whether ``user`` has confirmed the address they sign in with."""
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def email_change_pending(*, user: User) -> str:
    """The new address ``user`` asked to move to and has not confirmed yet, or ""."""
    from allauth.account.models import EmailAddress

    pending = (
        EmailAddress.objects.filter(user=user, verified=False)
        .exclude(email__iexact=user.email)
        .values_list("email", flat=True)
        .first()
    )
    return pending or ""
