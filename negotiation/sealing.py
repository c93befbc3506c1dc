"""Secrets in outgoing text: a portal link, a one-time code.

The outbox stores a message with its secrets masked (what staff, exports and logs may read) and beside it a
sealed copy of the clear text: encrypted and authenticated (Fernet) under a key derived from SECRET_KEY, so a
database reader cannot open it. Only the send opens the seal, hands the clear text to the gateway and wipes the
seal; from then on the secret exists only on the cardholder's phone."""

import base64
import json
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac

from compliance.masking import mask_portal_links

CODE_MASK = "••••••"
# Stored bodies written before secrets were sealed: six digits alone are a one-time code.
_ONE_TIME_CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")


class SealBroken(ValueError):
    """The sealed text does not open under any current or fallback SECRET_KEY."""


def _fernet() -> MultiFernet:
    # Derived from SECRET_KEY and its fallbacks, so a key rotation does not strand messages held for the morning.
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(base64.urlsafe_b64encode(salted_hmac("accord.negotiation.sealing", "outbox", secret=key,
                                                        algorithm="sha256").digest()))
            for key in keys
        ]
    )


def seal(*, subject: str, body: str) -> str:
    return _fernet().encrypt(json.dumps({"subject": subject, "body": body}).encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> tuple[str, str]:
    """(subject, body) in clear."""
    try:
        opened = json.loads(_fernet().decrypt(sealed.encode("ascii")))
    except (InvalidToken, ValueError) as error:
        raise SealBroken("the sealed message text does not open") from error
    return opened["subject"], opened["body"]


def masked_value(name: str, value: str) -> str:
    """How a secret template variable is stored: a link keeps the last characters of its token, a code none."""
    if name == "link":
        return mask_portal_links(value)
    return CODE_MASK


def mask_stored(text: str, *, codes: bool) -> str:
    """Mask the secrets in a text stored before sealing existed: portal links always, six-digit codes when the
    message is a one-time code (`codes`)."""
    text = mask_portal_links(text)
    return _ONE_TIME_CODE.sub(CODE_MASK, text) if codes else text


def outbox_mask_stored(message_model, *, requested_purpose: str = "requested",
                       unsent: tuple[str, ...] = ("queued", "scheduled", "sending")) -> int:
    """The data migration: mask the links (and the codes of one-time-code messages) in every stored message.
    One not yet sent keeps its clear text sealed, so it still goes out whole. Returns the messages changed."""
    changed = 0
    candidates = message_model.objects.filter(body__contains="/p/") | message_model.objects.filter(
        subject__contains="/p/"
    ) | message_model.objects.filter(purpose=requested_purpose, status__in=unsent)
    for message in candidates.distinct().iterator(chunk_size=500):
        codes = message.purpose == requested_purpose
        subject, body = mask_stored(message.subject, codes=codes), mask_stored(message.body, codes=codes)
        if (subject, body) == (message.subject, message.body):
            continue
        if message.status in unsent and not message.sealed:
            message.sealed = seal(subject=message.subject, body=message.body)
        message.subject, message.body = subject, body
        message.save(update_fields=["subject", "body", "sealed"])
        changed += 1
    return changed


def outbox_unmask_unsent(message_model) -> int:
    """The migration's reverse: a message not yet sent gets its clear text back; a sent one stays masked, as
    its secret was deliberately not kept."""
    changed = 0
    for message in message_model.objects.exclude(sealed="").iterator(chunk_size=500):
        message.subject, message.body = unseal(message.sealed)
        message.sealed = ""
        message.save(update_fields=["subject", "body", "sealed"])
        changed += 1
    return changed
