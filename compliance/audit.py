"""Recording and verifying the hash-chained audit log. Every service calls `record` for its write."""

import json
from collections.abc import Iterator

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from compliance.middleware import request_ip
from compliance.models import AuditEvent

GENESIS_HASH = "0" * 64
# Any constant will do: it names the one advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_406_172_001


def _lock_chain() -> None:
    """Serialise appends so that each row chains to the true previous one (SQLite writers are serial)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def _normalised(changes: dict) -> dict:
    """Round-trip through JSON so that the stored value and the hashed value are the same."""
    return json.loads(json.dumps(changes, cls=DjangoJSONEncoder))


def changes_apply(instance, values: dict) -> dict[str, list]:
    """Set on `instance` the values that differ and return them as {field: [old, new]}, the shape every
    update's audit record takes; an empty result means nothing changed."""
    changes = {
        name: [getattr(instance, name), value] for name, value in values.items() if getattr(instance, name) != value
    }
    for name, (_old, new) in changes.items():
        setattr(instance, name, new)
    return changes


def record(
    *,
    action: str,
    actor=None,
    actor_kind: str | None = None,
    actor_label: str = "",
    target=None,
    case_id: int | None = None,
    changes: dict | None = None,
    reason: str = "",
    ip: str | None = None,
) -> AuditEvent:
    """Append one event; call inside the transaction of the write it records."""
    if actor_kind is None:
        actor_kind = AuditEvent.ActorKind.STAFF if actor is not None else AuditEvent.ActorKind.SYSTEM
    if actor is not None and not actor_label:
        actor_label = actor.get_username()
    target_type = target._meta.label_lower if target is not None else ""
    target_id = str(target.pk) if target is not None else ""
    if ip is None:
        ip = request_ip.get()
    if case_id is None and target is not None and target._meta.label_lower == "cases.case":
        case_id = target.pk
    with transaction.atomic():
        _lock_chain()
        previous = AuditEvent.objects.order_by("-pk").values_list("hash", flat=True).first()
        event = AuditEvent(
            at=timezone.now(),
            actor=actor,
            actor_kind=actor_kind,
            actor_label=actor_label,
            action=action,
            target_type=target_type,
            target_id=target_id,
            case_id=case_id,
            changes=_normalised(changes or {}),
            reason=reason,
            ip=ip,
            prev_hash=previous or GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save()
    return event


def first_broken_event(chunk_size: int = 5000) -> AuditEvent | None:
    """Walk the chain in order and return the first row whose hash or link does not hold."""
    expected_prev = GENESIS_HASH
    for event in _in_order(chunk_size):
        if event.prev_hash != expected_prev or event.compute_hash() != event.hash:
            return event
        expected_prev = event.hash
    return None


def _in_order(chunk_size: int) -> Iterator[AuditEvent]:
    last_pk = 0
    while True:
        chunk = list(AuditEvent.objects.filter(pk__gt=last_pk).order_by("pk")[:chunk_size])
        if not chunk:
            return
        yield from chunk
        last_pk = chunk[-1].pk
