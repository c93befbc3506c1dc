from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active")
    list_select_related = ("team",)
    fieldsets = BaseUserAdmin.fieldsets + ((_("Role and team"), {"fields": ("role", "team")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + ((_("Role and team"), {"fields": ("role", "team")}),)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "supervisor")
    list_select_related = ("supervisor",)
    search_fields = ("name",)
