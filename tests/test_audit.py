import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from rarebridge.core.actor import Actor
from rarebridge.core.audit import audit_log
from rarebridge.core.models import AuditEntry


def test_it_records_actor_object_organisation_payload_and_ip(cast, rf):
    request = rf.get("/", REMOTE_ADDR="203.0.113.9")
    request.user = cast.admin
    entry = audit_log(
        action="test.thing.done",
        actor=Actor.from_request(request),
        obj=cast.patient,
        payload={"a": 1},
    )
    assert (
        entry.actor_label,
        entry.object_type,
        entry.organisation_id,
        entry.payload,
        entry.ip_address,
    ) == (
        str(cast.admin),
        "accounts.patientprofile",
        cast.org.pk,
        {"a": 1},
        "203.0.113.9",
    )


def test_it_refuses_to_change_or_delete_an_entry_through_the_orm(cast):
    entry = audit_log(action="test.thing.done", actor=cast.admin)
    entry.action = "changed"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


@pytest.mark.postgres
def test_it_refuses_update_and_delete_in_postgresql_itself(cast):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    audit_log(action="test.thing.done", actor=cast.admin)
    for statement in ("UPDATE core_auditentry SET action = 'x'", "DELETE FROM core_auditentry"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditEntry.objects.filter(action="test.thing.done").exists()
