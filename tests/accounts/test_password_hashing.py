import pytest
from django.contrib.auth.hashers import make_password

from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.real_password_hashing]


def test_new_passwords_are_hashed_with_argon2(team):
    user = UserFactory(username="new-hire", team=team)
    user.set_password("a-fresh-passphrase-2026")
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("a-fresh-passphrase-2026")


def test_an_existing_pbkdf2_hash_still_logs_in_and_is_upgraded_to_argon2(client, team):
    user = UserFactory(username="old-timer", team=team)
    user.password = make_password("an-old-passphrase-2019", hasher="pbkdf2_sha256")
    user.save()
    response = client.post("/login/", {"username": "old-timer", "password": "an-old-passphrase-2019"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
