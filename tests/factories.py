import random
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Role, Team, User
from cases.identity import national_id_check_char
from cases.models import CardAccount, Case, Debtor

PASSWORD = "correct-horse-battery-9"


def make_national_id(n: int) -> str:
    first17 = f"310101{1970 + n % 30:04d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first17 + national_id_check_char(first17)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    role = Role.COLLECTOR
    team = factory.SubFactory(TeamFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class DebtorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Debtor

    national_id = factory.Sequence(make_national_id)
    key = factory.LazyAttribute(lambda d: d.national_id)
    full_name = factory.Iterator(["王芳", "李伟", "张敏", "刘洋", "陈静", "杨磊"])
    mobile = factory.Sequence(lambda n: f"138{n:08d}"[:11])
    email = factory.Sequence(lambda n: f"holder{n}@example.com")
    city = "上海"


class CardAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CardAccount

    debtor = factory.SubFactory(DebtorFactory)
    external_ref = factory.Sequence(lambda n: f"ACC{n:09d}")
    card_last4 = factory.LazyFunction(lambda: f"{random.randint(0, 9999):04d}")
    credit_limit = Decimal("50000.00")
    principal_overdue = Decimal("8000.00")
    interest_overdue = Decimal("600.00")
    fees_overdue = Decimal("100.00")
    delinquent_since = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=20))


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    account = factory.SubFactory(CardAccountFactory)
    team = factory.SubFactory(TeamFactory)
    classification = "early"
    bucket = "special_mention"
    priority = 100


def case_in(status: str, **kwargs) -> Case:
    """A case already in `status` (the FSM field is protected, so the row is moved directly)."""
    case = CaseFactory(**kwargs)
    Case.objects.filter(pk=case.pk).update(status=status)
    case.refresh_from_db()
    return case


def verified(case: Case, **figures):
    """A completed verification with the outcome verified, which `propose_plan` requires."""
    from negotiation.models import Verification

    return Verification.objects.create(
        case=case,
        hardship_reason="income_drop",
        monthly_income=figures.get("monthly_income", Decimal("9000.00")),
        essential_expenses=figures.get("essential_expenses", Decimal("4000.00")),
        other_debt_payments=figures.get("other_debt_payments", Decimal("1000.00")),
        disposable_income=Decimal("4000.00"),
        outcome="verified",
        completed_at=timezone.now(),
    )
