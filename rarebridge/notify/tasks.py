"""Background tasks of notify. Each re-reads the state when it runs and is idempotent."""

from __future__ import annotations

from django_tasks import task

from rarebridge.notify.delivery import message_deliver


@task(queue_name="notify")
def deliver_message(message_id: int) -> str:
    return message_deliver(message_id=message_id)
