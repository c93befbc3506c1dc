"""Where each role lands after login, and what its navigation offers."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role

LANDING_URL_NAME = {
    Role.COLLECTOR: "cases:worklist",
    Role.SUPERVISOR: "cases:supervisor",
    Role.LEGAL: "cases:worklist",
    Role.COMPLIANCE: "reporting:compliance",
    Role.ADMIN: "admin:index",
}

NAVIGATION = {
    Role.COLLECTOR: [("cases:worklist", _("Worklist")), ("reporting:scorecard", _("My scorecard"))],
    Role.SUPERVISOR: [
        ("cases:supervisor", _("Team")),
        ("cases:worklist", _("Worklist")),
        ("reporting:kpis", _("KPIs")),
        ("compliance:complaints", _("Complaints")),
        ("reporting:compliance", _("Compliance")),
        ("compliance:screening-hits", _("Screening")),
        ("negotiation:escalations", _("Escalations")),
        ("negotiation:visits", _("Field visits")),
        ("negotiation:agencies", _("Agencies")),
        ("plans:approvals", _("Offer approvals")),
    ],
    Role.LEGAL: [
        ("cases:worklist", _("Escalated cases")),
        ("negotiation:escalations", _("Litigation and placements")),
        ("negotiation:agencies", _("Agencies")),
    ],
    Role.COMPLIANCE: [
        ("reporting:compliance", _("Compliance")),
        ("reporting:kpis", _("KPIs")),
        ("cases:worklist", _("All cases")),
        ("compliance:complaints", _("Complaints")),
        ("compliance:screening-hits", _("Screening")),
        ("compliance:audit-log", _("Audit log")),
        ("compliance:policies-default", _("Contact policies")),
        ("negotiation:agencies", _("Agencies")),
    ],
    Role.ADMIN: [
        ("cases:worklist", _("All cases")),
        ("reporting:kpis", _("KPIs")),
        ("negotiation:visits", _("Field visits")),
        ("negotiation:agencies", _("Agencies")),
        ("compliance:audit-log", _("Audit log")),
        ("admin:index", _("Administration")),
    ],
}


def landing_url(user) -> str:
    return reverse(LANDING_URL_NAME.get(user.role, "cases:worklist"))


def navigation_for(user) -> list[tuple[str, str]]:
    return [(reverse(name), label) for name, label in NAVIGATION.get(user.role, [])]
