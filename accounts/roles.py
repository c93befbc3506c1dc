"""Each role is a Django group; its model permissions are declared here and synced after migrate."""

from django.apps import apps as global_apps
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS

from accounts.models import Role

# Model permissions each role's group carries, as "app_label.codename" patterns ("app.*" is all of an app).
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.COLLECTOR: ("cases.view_*", "negotiation.*", "plans.view_*", "plans.add_*", "plans.change_*"),
    Role.SUPERVISOR: ("cases.*", "negotiation.*", "plans.*", "reporting.view_*", "compliance.view_*"),
    Role.LEGAL: ("cases.view_*", "negotiation.view_*", "negotiation.add_*", "plans.view_*"),
    Role.COMPLIANCE: ("cases.view_*", "negotiation.view_*", "plans.view_*", "compliance.*", "reporting.view_*"),
    Role.ADMIN: ("accounts.*", "cases.*", "negotiation.*", "plans.*", "compliance.*", "reporting.*", "authtoken.*"),
}


def role_require(actor, roles, message: str, *, system_allowed: bool = False) -> None:
    """PermissionDenied(message) unless the actor is a superuser or has one of `roles`. With system_allowed,
    no actor at all (a Celery task, a management command) passes too."""
    if actor is None:
        if system_allowed:
            return
        raise PermissionDenied(message)
    if not actor.is_superuser and actor.role not in roles:
        raise PermissionDenied(message)


def _matches(pattern: str, app_label: str, codename: str) -> bool:
    wanted_app, _, wanted_code = pattern.partition(".")
    if wanted_app != app_label:
        return False
    if wanted_code == "*":
        return True
    if wanted_code.endswith("*"):
        return codename.startswith(wanted_code[:-1])
    return codename == wanted_code


def sync_role_groups(*, using: str = DEFAULT_DB_ALIAS, apps=global_apps, **kwargs) -> None:
    """Create one group per role and give it exactly the permissions ROLE_PERMISSIONS names."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.using(using).select_related("content_type"))
    for role in Role.values:
        group, _created = Group.objects.using(using).get_or_create(name=role)
        wanted = [
            perm
            for perm in permissions
            if any(_matches(p, perm.content_type.app_label, perm.codename) for p in ROLE_PERMISSIONS[role])
        ]
        group.permissions.set(wanted)


def assign_role_group(user) -> None:
    """Keep a user in exactly the group of their role."""
    from django.contrib.auth.models import Group

    role_groups = Group.objects.filter(name__in=Role.values)
    user.groups.remove(*role_groups.exclude(name=user.role))
    group, _created = Group.objects.get_or_create(name=user.role)
    user.groups.add(group)
