"""Settings of integration tests' workers: the project's, with every task they send on the test's own queue
(the daily job hands each reminder, and each reminder its SMS, to further tasks; a busy import retries)."""

import os

from config.settings import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["ACCORD_TEST_QUEUE"]
