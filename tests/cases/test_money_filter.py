"""The `money` template filter: ¥, thousands separators, two decimals, Decimal only."""

from decimal import Decimal

import pytest

from cases.templatetags.accord import money


@pytest.mark.parametrize(
    "amount, shown",
    [
        (Decimal("1234567.8"), "¥1,234,567.80"),
        (Decimal("0.005"), "¥0.01"),
        (Decimal("-12.5"), "-¥12.50"),
        (0, "¥0.00"),
        (None, ""),
    ],
)
def test_money_shows_yuan_with_separators_and_two_decimals(amount, shown):
    assert money(amount) == shown


def test_money_refuses_a_float():
    with pytest.raises(TypeError):
        money(12.5)
