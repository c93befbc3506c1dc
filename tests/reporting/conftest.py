from datetime import date

import pytest

from reporting.snapshots import snapshot_build
from tests.reporting import dataset


@pytest.fixture
def portfolio(db):
    """The hand-made portfolio of dataset.py, snapshotted from 31 August to 30 September."""
    built = dataset.build()
    snapshot_build(start=date(2026, 8, 31), end=dataset.DAY)
    return built


SEPTEMBER = {"start": "2026-09-01", "end": "2026-09-30"}
