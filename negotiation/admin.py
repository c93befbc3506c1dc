from django.contrib import admin

from negotiation.models import Agency


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    """The register of licensed collection agencies cases may be placed with."""

    list_display = ("name", "licence_number", "contact", "active")
    list_filter = ("active",)
    search_fields = ("name", "licence_number")
