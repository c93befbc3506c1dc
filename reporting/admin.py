from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reporting.models import PortfolioTotal
from reporting.services import portfolio_total_set


class PortfolioTotalForm(forms.ModelForm):
    class Meta:
        model = PortfolioTotal
        fields = ("date", "accounts", "balance")

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("A portfolio total cannot be dated in the future."), code="future")
        return day


@admin.register(PortfolioTotal)
class PortfolioTotalAdmin(admin.ModelAdmin):
    """Daily portfolio totals, when the card system does not report them through the API."""

    form = PortfolioTotalForm
    list_display = ("date", "accounts", "balance", "updated_by", "updated_at")
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change):
        # Through the service, so the change is checked and audited like an API call.
        saved, _created = portfolio_total_set(
            day=obj.date, accounts=obj.accounts, balance=obj.balance, actor=request.user
        )
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
