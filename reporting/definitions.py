"""What each KPI means, as shown beside it on the page and in the exports."""

from django.utils.translation import gettext_lazy as _

# key: (label, kind, definition). Kinds: money, count, rate (a fraction shown as %), days, number.
KPI_DEFINITIONS = {
    "overdue_amount": (
        _("Overdue amount"),
        "money",
        _("Overdue principal, interest and fees of the cases open at the end of the period."),
    ),
    "overdue_cases": (_("Overdue cases"), "count", _("Cases open at the end of the period.")),
    "overdue_rate_amount": (
        _("Overdue rate (amount)"),
        "rate",
        _(
            "Overdue amount at the end of the period ÷ the portfolio balance reported for that day (or the last "
            "day before it)."
        ),
    ),
    "overdue_rate_accounts": (
        _("Overdue rate (accounts)"),
        "rate",
        _("Cases open at the end of the period ÷ the accounts in the portfolio reported for that day."),
    ),
    "cure_rate": (
        _("Cure rate"),
        "rate",
        _(
            "Cases resolved (paid or agreement completed) in the period ÷ cases worked: open at its start or "
            "opened during it."
        ),
    ),
    "recovery_rate": (
        _("Recovery rate"),
        "rate",
        _(
            "Payments collected in the period ÷ the overdue amount, when each was opened, of the cases worked in "
            "the period."
        ),
    ),
    "collected": (_("Collected"), "money", _("Payments received on cases in the period.")),
    "promise_kept_rate": (
        _("Promise kept rate"),
        "rate",
        _("Promises judged kept in the period ÷ all promises judged in it (kept, partially kept or broken)."),
    ),
    "right_party_contact_rate": (
        _("Right-party contact rate"),
        "rate",
        _("Contacts in which the cardholder was reached (a conversation) ÷ all contacts recorded in the period."),
    ),
    "plan_acceptance_rate": (
        _("Plan acceptance rate"),
        "rate",
        _("Offers accepted in the period ÷ offers sent to cardholders in the period."),
    ),
    "agreement_breach_rate": (
        _("Agreement breach rate"),
        "rate",
        _("Agreements breached in the period ÷ agreements that ended in it (breached or completed)."),
    ),
    "average_days_to_agreement": (
        _("Average days to agreement"),
        "days",
        _("For agreements signed in the period: days from the case opening to the signature, averaged."),
    ),
    "complaints_per_thousand": (
        _("Complaints per 1,000 cases"),
        "number",
        _("Complaints received in the period × 1,000 ÷ cases worked in the period."),
    ),
    "satisfaction": (
        _("Satisfaction"),
        "number",
        _("Average score (1–5) of the surveys answered in the period, after completed agreements."),
    ),
    "contacts_per_resolved_case": (
        _("Contacts per resolved case"),
        "number",
        _("Contacts recorded in the period ÷ cases resolved in it."),
    ),
}

SCORECARD_NOTE = _(
    "Collectors are judged on a balanced set of figures: contact quality, plans, kept promises, compliance and "
    "the cardholders' satisfaction. The amount collected is shown for context and never ranks anyone."
)

ROLL_DEFINITION = _(
    "Cases open at the previous month end, by their regulatory bucket then, and where they were at this month "
    "end: a bucket (by days past due), or resolved or closed. The rate is the share of the cases that started in "
    "the row's bucket."
)

SATISFACTION_DEFINITION = _("Surveys answered in the period, by score (1 = very dissatisfied, 5 = very satisfied).")

TREND_DEFINITION = _(
    "Overdue amount and cases open at the end of each day (each month end for periods over 31 days), with the "
    "overdue rate against the portfolio balance reported for that day."
)

BY_CLASS_DEFINITION = _("Cases open at the end of the period and their overdue amount, by class.")
BY_BUCKET_DEFINITION = _(
    "Cases open at the end of the period and their overdue amount, by regulatory bucket (days past due at that day)."
)
ACTIVITY_DEFINITION = _(
    "Contacts and right-party contacts recorded each day of the period (each month, by its first day, for "
    "periods over 31 days)."
)
