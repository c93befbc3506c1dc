"""schemathesis over the OpenAPI schema: every operation, with generated input, as an administrator. No answer is
a server error, and every answer matches what the schema documents."""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.wsgi import application
from tests.factories import UserFactory

EXAMPLES_PER_OPERATION = 5


@pytest.fixture
def admin_token(db) -> str:
    admin = UserFactory(username="fuzz-admin", role="admin", team=None)
    return Token.objects.create(user=admin).key


def _openapi() -> dict:
    """The schema /api/schema/ serves, generated in-process (collection needs it before any database exists)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(_openapi())
schema.app = application


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI app would close the test's database connection after each request; Django's test client
    disconnects the same handlers."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.postgres
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_generated_requests_as_documented(case, admin_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {admin_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
