"""The one check every service makes of the actor's role."""

import pytest
from django.core.exceptions import PermissionDenied

from accounts.roles import role_require
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_user_with_one_of_the_roles_passes():
    role_require(UserFactory(role="supervisor"), {"supervisor", "admin"}, "no")


def test_a_user_with_another_role_is_refused_with_the_message():
    with pytest.raises(PermissionDenied, match="supervisors only"):
        role_require(UserFactory(role="collector"), {"supervisor"}, "supervisors only")


def test_a_superuser_passes_whatever_the_role():
    role_require(UserFactory(role="collector", is_superuser=True), {"supervisor"}, "no")


def test_no_actor_is_refused_unless_the_system_may_act():
    with pytest.raises(PermissionDenied):
        role_require(None, {"supervisor"}, "no")
    role_require(None, {"supervisor"}, "no", system_allowed=True)
