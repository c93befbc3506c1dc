from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Team, User
from accounts.two_factor import OwnReset, two_factor_reset

# An authenticator's key is a secret of its user alone: no admin page shows or edits it.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "team", "is_active", "two_factor")
    list_filter = ("role", "team", "is_active")
    list_select_related = ("team",)
    fieldsets = BaseUserAdmin.fieldsets + ((_("Role and team"), {"fields": ("role", "team")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + ((_("Role and team"), {"fields": ("role", "team")}),)
    actions = ["reset_two_factor"]

    @admin.display(boolean=True, description=_("two-factor login"))
    def two_factor(self, user) -> bool:
        return any(device.confirmed for device in user.totpdevice_set.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("totpdevice_set")

    @admin.action(description=_("Reset two-factor login (the user enrols again)"))
    def reset_two_factor(self, request, queryset):
        done = 0
        for user in queryset:
            try:
                two_factor_reset(user_id=user.pk, actor=request.user, reason="admin: reset two-factor login")
            except (OwnReset, PermissionDenied) as error:
                self.message_user(request, f"{user.get_username()}: {error}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "Two-factor login reset for %(count)d user.", "Two-factor login reset for %(count)d users.", done
                )
                % {"count": done},
                messages.SUCCESS,
            )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "supervisor")
    list_select_related = ("supervisor",)
    search_fields = ("name",)
