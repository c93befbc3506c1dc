"""GET /healthz: the database, the cache and broker, and the worker's last heartbeat."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down", reported with its message
        return {"ok": False, "error": str(exc)[:200]}
    return {"ok": True, "vendor": connection.vendor}


def _check_cache() -> dict:
    try:
        cache.set("healthz", "ok", 10)
        ok = cache.get("healthz") == "ok"
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": str(exc)[:200]}
    return {"ok": ok}


def _check_broker() -> dict:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        return {"ok": folder.is_dir(), "transport": "filesystem"}
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "transport": "redis", "error": str(exc)[:200]}
    return {"ok": True, "transport": "redis"}


def _check_worker() -> dict:
    from accounts.selectors import last_heartbeat_at

    try:
        beat_at = last_heartbeat_at()
    except Exception:  # noqa: BLE001 - the database check reports the cause
        beat_at = None
    if beat_at is None:
        return {"ok": False, "last_heartbeat": None}
    max_age = timedelta(seconds=3 * settings.HEARTBEAT_INTERVAL_SECONDS)
    age = timezone.now() - beat_at
    return {"ok": age <= max_age, "last_heartbeat": beat_at.isoformat(), "age_seconds": int(age.total_seconds())}


@never_cache
@require_GET
def healthz(request):
    checks = {
        "database": _check_database(),
        "cache": _check_cache(),
        "broker": _check_broker(),
        "worker": _check_worker(),
    }
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unhealthy", **checks}, status=200 if healthy else 503)
