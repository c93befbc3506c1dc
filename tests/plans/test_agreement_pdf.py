"""The agreement PDF states what CN rules require for a personalised installment agreement, in Chinese
text a reader (and pypdf) can extract."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from cases.models import CardAccount, Case, Debtor
from compliance.masking import mask_national_id
from plans.agreements import agreement_pdf
from plans.models import Offer
from plans.schedule import Terms, build
from tests.factories import make_national_id
from tests.plans.signing_setup import SHANGHAI

SIGNED_AT = datetime(2026, 12, 3, 10, 15, 30, tzinfo=SHANGHAI)
NUMBER = "AG20261203-00000042-1"


def unsaved_offer(*, method="annuity", annual_rate="0.06", monthly_fee_rate="0", interest_waiver_pct="50",
                  fee_waiver_pct="100", grace_months=0, new_limit=None) -> Offer:
    """An offer on a case, none of it stored: the PDF is pure rendering of what it is given."""
    debtor = Debtor(full_name="王芳", national_id=make_national_id(7), mobile="13812345678")
    account = CardAccount(debtor=debtor, card_last4="4821", credit_limit=Decimal("50000.00"),
                          principal_overdue=Decimal("18234.50"), interest_overdue=Decimal("1600.25"),
                          fees_overdue=Decimal("100.00"))
    terms = Terms(principal=account.principal_overdue, interest=account.interest_overdue, fees=account.fees_overdue,
                  method=method, months=12, first_due_date=date(2027, 1, 31), annual_rate=Decimal(annual_rate),
                  monthly_fee_rate=Decimal(monthly_fee_rate), interest_waiver_pct=Decimal(interest_waiver_pct),
                  fee_waiver_pct=Decimal(fee_waiver_pct), grace_months=grace_months)
    schedule = build(terms)
    return Offer(
        case=Case(account=account), method=method, months=12, annual_rate=terms.annual_rate,
        monthly_fee_rate=terms.monthly_fee_rate, interest_waiver_pct=terms.interest_waiver_pct,
        fee_waiver_pct=terms.fee_waiver_pct, grace_months=grace_months, first_due_date=terms.first_due_date,
        principal=terms.principal, interest=terms.interest, fees=terms.fees,
        financed_amount=schedule.financed_amount, total_payable=schedule.total_payable,
        total_waived=schedule.total_waived, largest_installment=schedule.largest_installment,
        schedule=schedule.as_json(), new_limit=new_limit, new_limit_expires_on=date(2027, 6, 30) if new_limit else None,
    )


def text_of(pdf: bytes) -> str:
    """Every page's text with whitespace removed (Chinese lines wrap anywhere)."""
    return "".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def chinese(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@pytest.fixture(scope="module")
def offer():
    return unsaved_offer(new_limit=Decimal("3000.00"))


@pytest.fixture(scope="module")
def pdf(offer):
    return agreement_pdf(offer=offer, number=NUMBER, signer_name="王芳", signed_at=SIGNED_AT)


@pytest.fixture(scope="module")
def text(pdf):
    return text_of(pdf)


def test_the_agreement_is_an_a4_pdf(pdf):
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert pdf.startswith(b"%PDF-")
    assert (round(float(page.mediabox.width) / 72 * 25.4), round(float(page.mediabox.height) / 72 * 25.4)) == (210, 297)


def test_the_same_input_gives_the_same_bytes(offer, pdf):
    assert agreement_pdf(offer=offer, number=NUMBER, signer_name="王芳", signed_at=SIGNED_AT) == pdf


def test_it_names_both_parties_with_the_id_masked_and_the_card_by_its_last_four(offer, text):
    debtor = offer.case.account.debtor
    assert "甲方（发卡机构）Accord示范银行股份有限公司信用卡中心" in text
    assert "乙方（持卡人）王芳" in text
    assert f"证件号码{mask_national_id(debtor.national_id)}" in text
    assert debtor.national_id not in text
    assert "信用卡卡号尾号4821" in text
    assert f"协议编号{NUMBER}" in text


def test_it_states_the_balance_its_structure_and_the_currency(text):
    for required in ("欠款本金¥18,234.50", "欠款利息¥1,600.25", "欠款费用¥100.00", "欠款合计¥19,934.75",
                     "减免利息¥800.13（50%）", "减免费用¥100.00（100%）", "减免合计¥900.13",
                     "纳入分期金额¥19,034.62", "人民币CNY", "人民币（CNY）"):
        assert required in text


def test_it_lists_every_installment_with_its_date_and_parts(offer, text):
    for row in offer.schedule:
        parts = (row["amount"], row["principal"], row["interest"], row["fee"])
        cells = "".join(f"{Decimal(value):,.2f}" for value in parts)
        assert f"{row['number']}{chinese(date.fromisoformat(row['due_date']))}{cells}" in text
    assert f"应还总额¥{offer.total_payable:,.2f}" in text


def test_it_states_that_nothing_more_accrues_while_the_agreement_is_kept(text):
    assert "甲方不再对本协议项下欠款另行计收利息、手续费、违约金、滞纳金或其他任何费用" in text
    assert "年利率6%" in text


def test_a_plan_without_interest_or_fees_says_none_are_charged():
    text = text_of(agreement_pdf(offer=unsaved_offer(annual_rate="0"), number=NUMBER, signer_name="王芳",
                                 signed_at=SIGNED_AT))
    assert "分期期间不收取利息和手续费" in text


def test_a_flat_fee_plan_states_its_monthly_fee_and_a_grace_period_that_accrues_nothing():
    offer = unsaved_offer(method="flat_fee", annual_rate="0", monthly_fee_rate="0.006", grace_months=2)
    text = text_of(agreement_pdf(offer=offer, number=NUMBER, signer_name="王芳", signed_at=SIGNED_AT))
    assert "每月0.6%" in text
    assert "首2个月为宽限期，宽限期内不计收利息和费用" in text
    assert f"首期还款日{chinese(date(2027, 3, 31))}" in text


def test_it_carries_the_undertaking_not_to_apply_for_new_cards(text):
    assert "在本协议项下欠款全部结清之前，乙方承诺不向甲方申请办理新的信用卡" in text


def test_it_states_the_cardholders_rights_with_the_complaint_lines(text):
    for right in ("查询权", "提前还款权", "异议权", "投诉权", "投诉热线400-000-0001", "12378"):
        assert right in text


def test_it_states_the_duties_and_the_breach_rule_from_the_settings(settings, offer):
    settings.INSTALLMENT_GRACE_DAYS, settings.INSTALLMENT_MISSES_TO_BREACH = 5, 3
    text = text_of(agreement_pdf(offer=offer, number=NUMBER, signer_name="王芳", signed_at=SIGNED_AT))
    assert "乙方的义务" in text
    assert "还款日后5日（宽限期）内仍未足额偿还的，该期视为未按约还款。" in text
    assert "累计3期未按约还款的，本协议终止，甲方恢复对剩余欠款的催收" in text


def test_it_states_the_temporary_limit_adjustment(text):
    assert "临时信用额度调整为¥3,000.00，有效期至2027年6月30日；到期后恢复为原信用额度¥50,000.00" in text


def test_without_a_limit_change_it_says_so():
    text = text_of(agreement_pdf(offer=unsaved_offer(), number=NUMBER, signer_name="王芳", signed_at=SIGNED_AT))
    assert "本协议不涉及信用额度调整" in text


def test_the_signature_block_names_the_signer_the_time_and_the_code_sent_to_the_mobile(text):
    assert "乙方（签名）王芳" in text
    assert "签署时间2026年12月3日10:15:30（北京时间）" in text
    assert "一次性验证码" in text
    assert "尾号5678" in text
