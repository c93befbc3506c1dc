import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_generates_without_warnings_and_lists_the_public_contracts(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    for path in (
        "/api/v1/cases/",
        "/api/v1/cases/{id}/",
        "/api/v1/cases/{id}/transitions/",
        "/api/v1/cases/{id}/contact-check/",
        "/api/v1/cases/{id}/contacts/",
    ):
        assert f"{path}:" in schema


def test_the_schema_and_the_swagger_ui_are_served_locally(client, collector):
    client.force_login(collector)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower()


def test_the_api_refuses_anonymous_callers(client):
    assert client.get("/api/v1/cases/").status_code in (401, 403)


def test_a_token_made_by_drf_create_token_authenticates(client, collector):
    call_command("drf_create_token", collector.username)
    key = Token.objects.get(user=collector).key
    response = client.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200


def test_page_size_is_a_query_parameter(api, collector):
    response = api(collector).get("/api/v1/cases/?page_size=5")
    assert response.status_code == 200
    assert set(response.json()) == {"count", "next", "previous", "results"}


def test_the_schema_and_the_docs_are_refused_to_anonymous_callers(client):
    assert client.get("/api/schema/").status_code in (401, 403)
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=/api/docs/")


def test_a_token_opens_the_schema(client, collector):
    call_command("drf_create_token", collector.username)
    key = Token.objects.get(user=collector).key
    response = client.get("/api/schema/", {"format": "json"}, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert "/api/v1/cases/" in response.json()["paths"]
