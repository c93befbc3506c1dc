import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_is_translated_into_chinese_by_default(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "登录" in response.content.decode()


def test_login_page_speaks_english_when_english_is_chosen(client):
    client.cookies["django_language"] = "en"
    response = client.get("/login/")
    assert "Log in to Accord" in response.content.decode()


def test_a_collector_logs_in_and_lands_on_the_worklist(client, collector):
    response = client.post("/login/", {"username": "collector", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("cases:worklist")
    assert response.wsgi_request.user == collector


@pytest.mark.parametrize(
    "role, landing",
    [
        ("collector", "cases:worklist"),
        ("supervisor", "cases:supervisor"),
        ("legal", "cases:worklist"),
        ("compliance", "reporting:compliance"),
        ("admin", "admin:index"),
    ],
)
def test_each_role_lands_on_its_own_page(client, team, role, landing):
    user = UserFactory(username=f"the-{role}", role=role, team=team, is_superuser=role == "admin")
    client.force_login(user)
    response = client.get(reverse("accounts:landing"))
    assert response.status_code == 302
    assert response["Location"] == reverse(landing)


def test_a_wrong_password_is_refused_with_a_message(client, collector):
    response = client.post("/login/", {"username": "collector", "password": "wrong-password"})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert 'role="alert"' in response.content.decode()


def test_logout_ends_the_session(client, collector):
    client.force_login(collector)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("cases:worklist"))["Location"].startswith(reverse("accounts:login"))


def test_logout_by_get_is_refused(client, collector):
    client.force_login(collector)
    assert client.get(reverse("accounts:logout")).status_code == 405


def test_repeated_failed_logins_lock_the_account_even_for_the_right_password(client, collector, settings):
    for _ in range(settings.LOGIN_FAILURES_PER_USER):
        client.post("/login/", {"username": "collector", "password": "wrong-password"})
    response = client.post("/login/", {"username": "collector", "password": PASSWORD})
    assert response.status_code == 429
    assert not response.wsgi_request.user.is_authenticated
    assert "登录失败次数过多" in response.content.decode()


def test_a_user_keeps_exactly_the_group_of_their_role(collector):
    assert list(collector.groups.values_list("name", flat=True)) == ["collector"]
    collector.role = "supervisor"
    collector.save()
    assert list(collector.groups.values_list("name", flat=True)) == ["supervisor"]


def test_role_groups_carry_the_permissions_of_their_role(db):
    from django.contrib.auth.models import Group

    collector_perms = set(Group.objects.get(name="collector").permissions.values_list("codename", flat=True))
    assert "view_case" in collector_perms
    assert "delete_case" not in collector_perms
    assert "change_classificationpolicy" in set(
        Group.objects.get(name="supervisor").permissions.values_list("codename", flat=True)
    )
