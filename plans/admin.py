from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from plans.models import Agreement, AuthorityLimit, Installment, Offer


class ReadOnlyAdmin(admin.ModelAdmin):
    """Offers, limits and agreements change only through their audited services and pages, never here."""

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


class InstallmentInline(admin.TabularInline):
    model = Installment
    fields = ("number", "due_date", "amount", "principal", "interest", "fee", "paid_amount", "paid_on", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("number",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    """What the cardholder signed, for reading; the PDF is downloaded from the case page (hash-checked, audited)."""

    list_display = ("number", "case", "status", "signer_name", "signed_at", "missed_count")
    list_filter = ("status",)
    list_select_related = ("case",)
    search_fields = ("number", "case__id")
    date_hierarchy = "signed_at"
    inlines = [InstallmentInline]
    fields = ("number", "case", "offer", "status", "signer_name", "signed_at", "signer_ip", "signer_user_agent",
              "code", "sha256", "signed_document", "missed_count", "ended_at")
    readonly_fields = fields

    @admin.display(description=_("agreement PDF"))
    def signed_document(self, agreement: Agreement) -> str:
        """The stored file's name with the checked, audited download (media is never served directly)."""
        return format_html(
            '<a href="{}">{}</a>', reverse("plans:agreement-pdf", args=[agreement.pk]), agreement.pdf.name
        )


@admin.register(Installment)
class InstallmentAdmin(ReadOnlyAdmin):
    list_display = ("agreement", "number", "due_date", "amount", "paid_amount", "paid_on", "status")
    list_filter = ("status",)
    list_select_related = ("agreement",)
    search_fields = ("agreement__number",)
    date_hierarchy = "due_date"
