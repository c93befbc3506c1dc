import pytest
from django.core.management import CommandError, call_command
from django.db import connection


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the refusal on other databases")
def test_the_benchmark_refuses_to_run_on_anything_but_postgresql():
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("benchmark_reporting", "--accounts", "10", "--contacts", "10")
