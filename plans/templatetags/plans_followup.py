"""The agreement's installments on the case page. cases sits below plans (docs/architecture.md): its template loads
this tag instead of its views importing plans."""

from django import template

from plans.models import Agreement

register = template.Library()


@register.inclusion_tag("plans/_installments.html")
def agreement_installments(case):
    """`{% agreement_installments case %}`: the latest agreement's schedule (two queries); nothing without one."""
    agreement = Agreement.objects.filter(case=case).order_by("-signed_at", "-pk").first()
    installments = list(agreement.installments.order_by("number")) if agreement else []
    return {"case": case, "agreement": agreement, "installments": installments}
