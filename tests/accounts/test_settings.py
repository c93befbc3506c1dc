import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_settings_load_with_the_documented_defaults():
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _name in settings.LANGUAGES] == ["zh-hans", "en"]
    assert settings.AUTH_USER_MODEL == "accounts.User"
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE
    assert settings.CELERY_TASK_SERIALIZER == "json" and settings.CELERY_ACCEPT_CONTENT == ["json"]


def _production_env(tmp_path: Path) -> dict:
    # The browser fixture allows Django's ORM inside Playwright's event loop; never in production.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DEBUG", "SECURE_", "STATIC_", "DJANGO_ALLOW_ASYNC_UNSAFE"))
    }
    env.update(
        DEBUG="false",
        SECRET_KEY="x9!Qm3#vR7@pL2$wT8^zK5&nB1*cF6(hJ4)dG0_sA-yU+eI=oP",
        ALLOWED_HOSTS="accord.example.com",
        ACCORD_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


def test_check_deploy_is_clean_with_production_like_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = _production_env(tmp_path)
    del env["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_without_redis_celery_uses_the_filesystem_broker_under_var(tmp_path):
    env = _production_env(tmp_path)
    env.pop("REDIS_URL", None)
    code = "from django.conf import settings; print(settings.CELERY_BROKER_URL, settings.CACHES['default']['BACKEND'])"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["filesystem://", "django.core.cache.backends.locmem.LocMemCache"]
    assert (tmp_path / "broker" / "queue").is_dir()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    env = _production_env(tmp_path)
    env.pop("DATABASE_URL", None)
    code = (
        "from django.db import connection; c = connection.cursor(); c.execute('PRAGMA journal_mode');"
        "print(c.fetchone()[0], connection.settings_dict['OPTIONS']['timeout'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["wal", "30"], result.stderr
