import hashlib
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from compliance.lexicon import default_terms
from compliance.masking import mask_national_id
from compliance.screening import Term, screen
from negotiation.letters import (
    Bank,
    GlyphMissing,
    LawFirm,
    NothingOverdue,
    break_lines,
    render_collection_letter,
    render_lawyer_letter,
    yuan,
)
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

BANK = Bank(
    name="华信银行股份有限公司信用卡中心",
    address="上海市浦东新区世纪大道100号华信大厦18楼",
    phone="400-820-8888",
    hours="每日 8:00—22:00",
    complaint_line="400-820-8899",
    website="www.huaxin-bank.example.cn",
)
FIRM = LawFirm(
    name="上海明理律师事务所",
    address="上海市黄浦区中山东一路18号5楼",
    phone="021-6321-0000",
    hours="工作日 9:00—17:30",
    complaint_line="021-6321-0099",
    website="www.mingli-law.example.cn",
    lawyer="李明",
)


@pytest.fixture
def case():
    case = CaseFactory(
        account__card_last4="4821",
        account__principal_overdue=Decimal("18234.50"),
        account__interest_overdue=Decimal("1600.25"),
        account__fees_overdue=Decimal("100.00"),
    )
    case.issued_on = case.account.delinquent_since + timedelta(days=50)
    return case


def collection(case) -> bytes:
    return render_collection_letter(case=case, issued_on=case.issued_on, bank=BANK)


def lawyer(case) -> bytes:
    return render_lawyer_letter(case=case, issued_on=case.issued_on, bank=BANK, law_firm=FIRM)


def text_of(pdf: bytes) -> str:
    """Every page's extractable text, whitespace removed (lines wrap anywhere in Chinese)."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return "".join(text.split())


def chinese(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@pytest.mark.parametrize("render", [collection, lawyer])
def test_a_letter_is_an_a4_pdf_with_pages(case, render):
    pdf = render(case)
    reader = PdfReader(io.BytesIO(pdf))
    assert pdf.startswith(b"%PDF-")
    assert len(reader.pages) >= 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)


@pytest.mark.parametrize("render", [collection, lawyer])
def test_a_letter_states_the_debt_in_extractable_chinese(case, render):
    text = text_of(render(case))
    account = case.account
    for required in (
        account.debtor.full_name,
        "尾号4821",
        "逾期本金¥18,234.50",
        "逾期利息¥1,600.25",
        "逾期费用¥100.00",
        "逾期欠款合计¥19,934.75",
        "逾期天数50天",
        f"逾期起始日{chinese(account.delinquent_since)}",
        chinese(case.issued_on),
        f"{case.number}-",
    ):
        assert required in text, required


@pytest.mark.parametrize("render", [collection, lawyer])
def test_a_letter_gives_the_legal_basis_and_the_cardholders_rights(case, render):
    text = text_of(render(case))
    for required in (
        "《中华人民共和国民法典》第五百零九条",
        "《信用卡领用合约》",
        "异议权利",
        "收到本函之日起15日内",
        "暂停对有异议部分的催收",
        f"投诉热线{BANK.complaint_line}",
        "12378",
        "不会向与本债务无关的第三人",
        "如何查询欠款",
        "如何还款",
        BANK.phone,
        "".join(BANK.hours.split()),
        BANK.address,
        BANK.website,
    ):
        assert required in text, required


def test_the_lawyer_letter_names_the_firm_and_its_mandate(case):
    text = text_of(lawyer(case))
    assert text.startswith(FIRM.name)
    for required in (
        f"{FIRM.name}（以下简称“本所”）接受{BANK.name}",
        "委托",
        "本所受托的事项为",
        "不是司法机关的法律文书",
        FIRM.phone,
        FIRM.address,
        "律师：李明",
    ):
        assert required in text, required


def test_the_collection_letter_has_the_banks_name_in_every_header(case):
    reader = PdfReader(io.BytesIO(collection(case)))
    for number, page in enumerate(reader.pages, start=1):
        text = "".join(page.extract_text().split())
        assert text.startswith(BANK.name)
        assert f"第{number}页/共{len(reader.pages)}页" in text


@pytest.mark.parametrize("render", [collection, lawyer])
def test_a_letter_never_shows_the_full_national_id_or_mobile(case, render):
    debtor = case.account.debtor
    pdf = render(case)
    text = text_of(pdf)
    assert debtor.national_id not in text
    assert debtor.mobile not in text
    assert mask_national_id(debtor.national_id) in text
    assert debtor.national_id.encode() not in pdf


@pytest.mark.parametrize("render", [collection, lawyer])
def test_a_letter_embeds_its_font(case, render):
    reader = PdfReader(io.BytesIO(render(case)))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        assert font["/Subtype"] == "/Type0"
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor
        assert "/ToUnicode" in font


@pytest.mark.parametrize("render", [collection, lawyer])
def test_the_same_input_gives_the_same_bytes(case, render):
    assert hashlib.sha256(render(case)).hexdigest() == hashlib.sha256(render(case)).hexdigest()


@pytest.mark.parametrize("render", [collection, lawyer])
def test_a_letter_passes_the_shipped_screening_lexicon(case, render):
    terms = [Term(term, category, language) for language, category, term in default_terms()]
    assert screen(text_of(render(case)), terms) == []


def test_a_name_the_font_cannot_draw_is_refused_rather_than_printed_as_boxes(case):
    case.account.debtor.full_name = "王䶮"
    with pytest.raises(GlyphMissing) as refused:
        collection(case)
    assert refused.value.characters == "䶮"


def test_an_account_with_nothing_overdue_gets_no_letter(case):
    case.account.delinquent_since = None
    with pytest.raises(NothingOverdue):
        collection(case)


@pytest.mark.parametrize(
    "amount, shown",
    [
        (Decimal("0"), "¥0.00"),
        (Decimal("0.005"), "¥0.01"),
        (Decimal("1234567.5"), "¥1,234,567.50"),
        (Decimal("999.994"), "¥999.99"),
    ],
)
def test_amounts_are_yuan_with_thousands_separators_and_two_decimals(amount, shown):
    assert yuan(amount) == shown


def test_money_as_float_is_refused():
    with pytest.raises(TypeError):
        yuan(1.5)


@pytest.mark.parametrize(
    "text, width, lines",
    [
        ("甲乙丙，丁", 3, ["甲乙", "丙，丁"]),  # a comma never starts a line
        ("甲乙《丙丁", 3, ["甲乙", "《丙丁"]),  # an opening bracket never ends one
        ("电话 400-820-8888", 12, ["电话", "400-820-8888"]),  # a number stays whole
        ("网址 www.example.cn", 6, ["网址", "www.ex", "ample.", "cn"]),  # unless it is wider than a line
    ],
)
def test_lines_break_by_chinese_rules(text, width, lines):
    assert break_lines(text, width, len) == lines
