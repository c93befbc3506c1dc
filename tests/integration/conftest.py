"""Real Celery workers for integration tests: separate processes on a Redis queue of their own,
writing to the test database."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


class Workers:
    def __init__(self) -> None:
        self.queue = f"test-{uuid.uuid4().hex[:12]}"
        self.processes: list[subprocess.Popen] = []

    def start(self, **env) -> subprocess.Popen:
        full_env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            **{key: str(value) for key, value in env.items()},
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queue, "--pool", "solo",
             "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel", "INFO"],
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL: the worker dies mid-task, without acknowledging or cleaning up."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            print(process.stdout.read())


@pytest.fixture
def workers():
    from config.celery import app

    app.conf.task_always_eager = False
    pool = Workers()
    yield pool
    pool.stop_all()


def wait_for(predicate, timeout: float = 60, step: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False
