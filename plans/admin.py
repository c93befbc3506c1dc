from django.contrib import admin

from plans.models import AuthorityLimit, Offer


class ReadOnlyAdmin(admin.ModelAdmin):
    """Offers and limits change only through their audited services and pages, never here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = ("pk", "case", "kind", "method", "months", "largest_installment", "total_payable", "status",
                    "created_by", "created_at")
    list_filter = ("status", "kind", "method")
    list_select_related = ("case", "created_by")
    search_fields = ("case__id",)
    date_hierarchy = "created_at"


@admin.register(AuthorityLimit)
class AuthorityLimitAdmin(ReadOnlyAdmin):
    """Edited by supervisors on /plans/authority/ (audited)."""

    list_display = ("role", "max_interest_waiver_pct", "max_fee_waiver_pct", "max_months", "max_grace_months",
                    "may_adjust_limit", "updated_by", "updated_at")
