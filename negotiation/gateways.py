"""Where messages leave Accord. Every gateway takes the message's idempotency key and delivers a key
once, however often it is called with it; that is what makes a retried send safe."""

import json
import os
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Delivery:
    gateway_ref: str
    repeated: bool = False  # the key had already been delivered; nothing went out this time


class FileSmsGateway:
    """Development and tests: one JSON file per key under var/sms/, created exclusively."""

    def __init__(self) -> None:
        self.folder = Path(settings.SMS_FILE_DIR)
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, *, key: str, to: str, text: str) -> Delivery:
        path = self.folder / f"{key}.json"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return Delivery(gateway_ref=path.name, repeated=True)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"key": key, "to": to, "text": text}, handle, ensure_ascii=False)
        # A pause after the hand-over, for the test that kills a worker between delivery and bookkeeping.
        time.sleep(settings.SMS_FILE_PAUSE_SECONDS)
        return Delivery(gateway_ref=path.name)


class ConsoleSmsGateway:
    """Prints each SMS once per key (per process)."""

    _seen: set[str] = set()

    def send(self, *, key: str, to: str, text: str) -> Delivery:
        if key in self._seen:
            return Delivery(gateway_ref=key, repeated=True)
        self._seen.add(key)
        print(f"[SMS to {to}] {text}")  # noqa: T201 - this backend's whole purpose
        return Delivery(gateway_ref=key)


class HttpSmsGateway:
    """Production: POST to the operator's gateway, which de-duplicates on the Idempotency-Key header."""

    def send(self, *, key: str, to: str, text: str) -> Delivery:
        request = urllib.request.Request(  # noqa: S310 - the URL comes from settings, https in production
            settings.SMS_GATEWAY_URL,
            data=json.dumps({"to": to, "text": text}).encode("utf-8"),
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": key,
                "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}",
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            body = json.loads(response.read() or b"{}")
        return Delivery(gateway_ref=str(body.get("id", key)), repeated=response.status == 200)


def sms_gateway():
    return import_string(settings.SMS_GATEWAY)()


def send_email(*, key: str, to: str, subject: str, text: str) -> Delivery:
    """Django's email backends; the Message-ID carries the key so a resend is recognisable downstream."""
    domain = settings.DEFAULT_FROM_EMAIL.partition("@")[2] or "accord.local"
    message = EmailMessage(subject=subject, body=text, to=[to], headers={"Message-ID": f"<{key}@{domain}>"})
    message.send()
    return Delivery(gateway_ref=f"<{key}@{domain}>")
