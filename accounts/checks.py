from django.conf import settings
from django.core.checks import Error, register

from accounts.models import Role


@register()
def two_factor_roles_exist(app_configs, **kwargs) -> list[Error]:
    """A misspelt role in STAFF_2FA_REQUIRED_ROLES would silently leave that role without a second factor."""
    unknown = sorted(set(settings.STAFF_2FA_REQUIRED_ROLES) - set(Role.values))
    if not unknown:
        return []
    return [
        Error(
            f"STAFF_2FA_REQUIRED_ROLES names unknown roles: {', '.join(unknown)}",
            hint=f"Use some of: {', '.join(Role.values)}.",
            id="accounts.E001",
        )
    ]
