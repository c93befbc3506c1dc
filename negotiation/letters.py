"""Collection letters as PDF, in Chinese: the collection notice (催收通知函) and the lawyer letter (律师函).

Pure rendering: a case (with its account and debtor already loaded), the issue date and the sender's
details go in, the PDF's bytes come out. Nothing is saved, sent or audited here; the same input gives
the same bytes, so a caller can store the SHA-256 of what was sent.

The text is set in a subset of Noto Sans CJK SC (OFL-1.1) shipped in negotiation/fonts/ and embedded
in every file, so a letter reads the same in any viewer and on paper. A character the subset lacks
(a rare hanzi in a name) raises `GlyphMissing` rather than print an empty box.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from fontTools.ttLib import TTFont
from fpdf import FPDF, Align, XPos, YPos
from fpdf.enums import WrapMode
from fpdf.fonts import FontFace

from cases.classification import days_past_due
from compliance.masking import mask_national_id

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = FONT_DIR / "AccordSansSC-Regular.ttf"
BOLD = FONT_DIR / "AccordSansSC-Bold.ttf"
FAMILY = "AccordSansSC"

# fpdf2 subsets the font on every output and fontTools logs each glyph list at INFO: keep the logs readable.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

CN_ZONE = ZoneInfo("Asia/Shanghai")
FEN = Decimal("0.01")
DISPUTE_DAYS = 15  # days from receipt in which the cardholder may dispute; the hold lasts until verified
REPLY_DAYS = 15  # days from receipt the lawyer letter asks the cardholder to repay or get in touch
COMPLAINT_DAYS = 15  # days in which the bank decides a complaint (docs/architecture.md, "The contact gate")
CONTACT_HOURS = "每日 8:00—22:00"
REGULATOR_HOTLINE = "12378"  # the financial regulator's consumer hotline

DEFAULT_CHANNELS = (
    "手机银行 App 或网上银行的信用卡“还款”功能；",
    "营业网点柜台还款；",
    "通过借记卡向您的信用卡账户转账还款（请在附言中注明卡号尾号）；",
    "绑定借记卡自动还款。",
)

LEGAL_BASIS = (
    "您与{we}签订的《信用卡领用合约》约定了您按期偿还透支本金、利息及相关费用的义务。",
    "《中华人民共和国民法典》第五百零九条规定：当事人应当按照约定全面履行自己的义务。",
    "《中华人民共和国民法典》第五百七十七条规定：当事人一方不履行合同义务或者履行合同义务不符合约定的，"
    "应当承担继续履行、采取补救措施或者赔偿损失等违约责任。",
    "《中华人民共和国民法典》第六百七十五条、第六百七十六条规定：借款人应当按照约定的期限返还借款；"
    "未按照约定的期限返还借款的，应当按照约定或者国家有关规定支付逾期利息。",
)


class LetterError(Exception):
    """A letter cannot be produced from this input."""


class NothingOverdue(LetterError):
    """The account has no overdue balance or no delinquency date, so there is nothing to write about."""


class GlyphMissing(LetterError):
    """The letter font cannot draw some characters of the text (e.g. a rare hanzi in a name)."""

    def __init__(self, characters: str):
        self.characters = characters
        super().__init__(f"the letter font has no glyph for: {characters}")


@dataclass(frozen=True)
class Sender:
    name: str
    address: str
    phone: str
    hours: str
    complaint_line: str
    website: str


@dataclass(frozen=True)
class Bank(Sender):
    repayment_channels: tuple[str, ...] = DEFAULT_CHANNELS


@dataclass(frozen=True)
class LawFirm(Sender):
    lawyer: str = ""


# A letter is a list of blocks, checked against the font before anything is drawn.
@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Para:
    text: str
    bold: bool = False


@dataclass(frozen=True)
class Items:
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    rows: tuple[tuple[str, str], ...]
    total: tuple[str, str] | None = None


@dataclass(frozen=True)
class Grid:
    """A table with a heading row (a repayment schedule); the columns from `numbers_from` on are right-aligned."""

    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    total: tuple[str, ...] | None = None
    numbers_from: int = 1


@dataclass(frozen=True)
class Signature:
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Letter:
    title: str
    reference: str
    issued_on: date
    header_left: str
    header_right: str
    author: str
    blocks: tuple = field(default_factory=tuple)
    footer: str = ""  # the confidentiality note at the foot of each page; FOOTER_NOTE when empty


@dataclass(frozen=True)
class Debt:
    """The figures a letter states, all as of the issue date."""

    name: str
    masked_id: str
    last4: str
    principal: Decimal
    interest: Decimal
    fees: Decimal
    since: date
    days: int

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fees


def yuan(amount: Decimal) -> str:
    """¥12,345.60: half-up to the fen, thousands separators, two decimals."""
    if not isinstance(amount, Decimal):
        raise TypeError("money must be a Decimal")
    return f"¥{amount.quantize(FEN, rounding=ROUND_HALF_UP):,.2f}"


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def reference_for(*, case, issued_on: date, kind: str) -> str:
    """C00000042-CN-20250301: the case, the kind of letter and the issue date."""
    return f"{case.number}-{kind}-{issued_on:%Y%m%d}"


def debt_for(*, case, issued_on: date) -> Debt:
    account = case.account
    debtor = account.debtor
    principal, interest, fees = (Decimal(v) for v in (account.principal_overdue, account.interest_overdue,
                                                      account.fees_overdue))
    days = days_past_due(account.delinquent_since, issued_on)
    if days <= 0 or principal + interest + fees <= 0:
        raise NothingOverdue(case.number)
    return Debt(
        name=debtor.full_name,
        masked_id=mask_national_id(debtor.national_id) if debtor.national_id else "",
        last4=account.card_last4,
        principal=principal,
        interest=interest,
        fees=fees,
        since=account.delinquent_since,
        days=days,
    )


def _debt_blocks(debt: Debt, issued_on: date) -> list:
    identity = [("持卡人姓名", debt.name)]
    if debt.masked_id:
        identity.append(("证件号码", debt.masked_id))
    identity += [
        ("信用卡卡号", f"尾号 {debt.last4}"),
        ("逾期起始日", chinese_date(debt.since)),
        ("逾期天数", f"{debt.days} 天（计至{chinese_date(issued_on)}）"),
    ]
    return [
        Table(rows=tuple(identity)),
        Table(
            rows=(("逾期本金", yuan(debt.principal)), ("逾期利息", yuan(debt.interest)),
                  ("逾期费用", yuan(debt.fees))),
            total=("逾期欠款合计", yuan(debt.total)),
        ),
        Para(f"以上金额以人民币计，计至{chinese_date(issued_on)}。此后利息及费用按《信用卡领用合约》约定计收，"
             "实际应还金额以您还款当日查询结果为准。"),
    ]


def _rights_items(*, bank: Bank, we: str, dispute_to: str) -> Items:
    return Items((
        f"还款义务：您应按照《信用卡领用合约》的约定归还上述欠款。如您因失业、疾病等原因暂时还款困难，"
        f"可拨打 {bank.phone} 申请协商还款，{we}将在核实您的情况后依规提供分期还款、延期还款等方案。",
        f"异议权利：如您对上述欠款金额、逾期情况或本函所载信息有异议，可自收到本函之日起 {DISPUTE_DAYS} 日内"
        f"{dispute_to}提出，说明异议的理由并附相关材料。核实期间，{we}暂停对有异议部分的催收，并将核实结果告知您。",
        f"投诉权利：如您认为催收行为不当，可拨打{we}投诉热线 {bank.complaint_line}，{we}将在 {COMPLAINT_DAYS} 日内"
        f"处理并答复；您也可以拨打金融消费者投诉热线 {REGULATOR_HOTLINE} 反映。",
        f"依法催收：{we}及受托机构将依照法律法规和监管规定文明、合规催收，仅在"
        f"{CONTACT_HOURS}与您本人联系，不会使用暴力、威胁、侮辱等手段，不会向与本债务无关的第三人"
        "透露您的欠款信息，也不会向其催收。",
        f"信息保护：{we}依照《中华人民共和国个人信息保护法》处理您的个人信息，本函中的证件号码已作遮蔽处理。",
    ))


def _service_blocks(*, bank: Bank, we: str, numerals: Sequence[str]) -> list:
    first, second, third = numerals
    return [
        Heading(f"{first}、如何查询欠款"),
        Items((
            f"登录{bank.name}手机银行 App 或网上银行，在信用卡“账单”中查看；",
            f"拨打{we}客服热线 {bank.phone}（{bank.hours}），核实身份后查询；",
            f"到{bank.name}任一营业网点查询，或访问 {bank.website}。",
        )),
        Heading(f"{second}、如何还款"),
        Items(bank.repayment_channels + (f"请只通过{bank.name}官方渠道还款，切勿向任何个人账户转账。",)),
        Heading(f"{third}、{we}联系方式"),
        Table(rows=(
            ("客服热线", bank.phone),
            ("服务时间", bank.hours),
            ("投诉热线", bank.complaint_line),
            ("通讯地址", bank.address),
            ("官方网站", bank.website),
        )),
    ]


def collection_letter(*, case, issued_on: date, bank: Bank) -> Letter:
    """The collection notice as blocks of text; `render_collection_letter` draws it."""
    debt = debt_for(case=case, issued_on=issued_on)
    reference = reference_for(case=case, issued_on=issued_on, kind="CN")
    blocks = [
        Para(f"尊敬的 {debt.name}："),
        Para(f"您在本行申领的信用卡（卡号尾号 {debt.last4}）自{chinese_date(debt.since)}起未按约定还款，"
             f"截至{chinese_date(issued_on)}已逾期 {debt.days} 天。现将欠款情况通知如下："),
        *_debt_blocks(debt, issued_on),
        Heading("一、通知原因及法律依据"),
        Para("您的信用卡账户已逾期，本行特向您发送本通知，提示您尽快还款。本通知的依据为："),
        Items(tuple(line.format(we="本行") for line in LEGAL_BASIS)),
        Para("本行依照《商业银行信用卡业务监督管理办法》等规定开展催收工作。"),
        Heading("二、您的权利和义务"),
        _rights_items(bank=bank, we="本行", dispute_to=f"拨打客服热线 {bank.phone} 或书面寄至本行（{bank.address}）"),
        *_service_blocks(bank=bank, we="本行", numerals="三四五"),
        Para("如您已在收到本通知前还清上述欠款，请忽略本通知。感谢您的理解与配合。"),
        Signature((bank.name, chinese_date(issued_on))),
    ]
    return Letter(
        title="信用卡逾期还款通知函",
        reference=reference,
        issued_on=issued_on,
        header_left=bank.name,
        header_right=f"编号：{reference}",
        author=bank.name,
        blocks=tuple(blocks),
    )


def lawyer_letter(*, case, issued_on: date, bank: Bank, law_firm: LawFirm) -> Letter:
    """The lawyer letter as blocks of text; `render_lawyer_letter` draws it."""
    debt = debt_for(case=case, issued_on=issued_on)
    reference = reference_for(case=case, issued_on=issued_on, kind="LS")
    signature = [law_firm.name]
    if law_firm.lawyer:
        signature.append(f"律师：{law_firm.lawyer}")
    signature.append(chinese_date(issued_on))
    blocks = [
        Para(f"致：{debt.name}（持卡人）"),
        Para(f"{law_firm.name}（以下简称“本所”）接受{bank.name}（以下简称“委托人”）的委托，就您在委托人处"
             f"申领的信用卡（卡号尾号 {debt.last4}）逾期欠款一事，依法向您致函如下。本所受托的事项为：向您告知"
             "欠款情况、与您沟通协商还款安排，并在协商不成时代理委托人依法主张权利。"),
        Heading("一、欠款事实"),
        Para(f"根据委托人提供的账户记录，您的信用卡自{chinese_date(debt.since)}起逾期，"
             f"截至{chinese_date(issued_on)}已逾期 {debt.days} 天，欠款如下："),
        *_debt_blocks(debt, issued_on),
        Heading("二、法律依据"),
        Items(tuple(line.format(we="委托人") for line in LEGAL_BASIS)),
        Heading("三、本所的建议"),
        Para(f"请您自收到本函之日起 {REPLY_DAYS} 日内，通过下列委托人官方渠道归还上述欠款，或与委托人、本所联系"
             "协商还款安排。协商一致的，委托人将按照约定的还款方案办理。如双方未能协商解决，委托人保留依法"
             "通过诉讼等途径主张权利的权利。"),
        Para("本函系律师事务所受托出具的律师函，不是司法机关的法律文书。本所及律师不收取任何欠款，"
             "请勿向任何个人账户转账。"),
        Heading("四、您的权利和义务"),
        _rights_items(
            bank=bank, we="委托人", dispute_to=f"向委托人（客服热线 {bank.phone}）或本所（{law_firm.phone}）"
        ),
        *_service_blocks(bank=bank, we="委托人", numerals="五六七"),
        Heading("八、本所联系方式"),
        Table(rows=(
            ("律师事务所", law_firm.name),
            ("联系电话", law_firm.phone),
            ("办公时间", law_firm.hours),
            ("投诉电话", law_firm.complaint_line),
            ("通讯地址", law_firm.address),
            ("网站", law_firm.website),
        )),
        Signature(tuple(signature)),
    ]
    return Letter(
        title="律师函",
        reference=reference,
        issued_on=issued_on,
        header_left=law_firm.name,
        header_right=f"委托人：{bank.name}　编号：{reference}",
        author=law_firm.name,
        blocks=tuple(blocks),
    )


def render_collection_letter(*, case, issued_on: date, bank: Bank) -> bytes:
    """The collection notice for a case as PDF bytes (A4, Chinese, embedded font)."""
    return render(collection_letter(case=case, issued_on=issued_on, bank=bank))


def render_lawyer_letter(*, case, issued_on: date, bank: Bank, law_firm: LawFirm) -> bytes:
    """The lawyer letter for a case as PDF bytes (A4, Chinese, embedded font)."""
    return render(lawyer_letter(case=case, issued_on=issued_on, bank=bank, law_firm=law_firm))


# Drawing.

MARGIN_X = 22.0
MARGIN_TOP = 30.0
MARGIN_BOTTOM = 22.0
BODY_PT = 10.5
LINE = 6.2  # mm per body line: about 1.7 times the type size, as Chinese letters are set
INK = (33, 37, 41)
GREY = (110, 117, 125)
RULE = (180, 186, 192)
SHADE = (242, 244, 246)
FOOTER_NOTE = "本函内容仅限持卡人本人知悉"


@cache
def _drawable() -> frozenset[int]:
    codes = set(TTFont(REGULAR, lazy=True)["cmap"].getBestCmap())
    return frozenset(codes & set(TTFont(BOLD, lazy=True)["cmap"].getBestCmap()))


def _texts(letter: Letter) -> Iterable[str]:
    yield from (letter.title, letter.header_left, letter.header_right, letter.author, letter.footer or FOOTER_NOTE)
    for block in letter.blocks:
        if isinstance(block, (Heading, Para)):
            yield block.text
        elif isinstance(block, (Items, Signature)):
            yield from block.lines
        elif isinstance(block, (Table, Grid)):
            headings = (block.headings,) if isinstance(block, Grid) else ()
            for row in headings + block.rows + ((block.total,) if block.total else ()):
                yield from row


def check_glyphs(texts: Iterable[str]) -> None:
    drawable = _drawable()
    missing = sorted({char for text in texts for char in text if ord(char) not in drawable and char != "\n"})
    if missing:
        raise GlyphMissing("".join(missing))


class _Page(FPDF):
    def __init__(self, letter: Letter):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.letter = letter

    def header(self):
        self.set_font(FAMILY, "B", 11)
        self.set_text_color(*INK)
        self.set_y(14)
        self.cell(0, 6, self.letter.header_left, align=Align.L)
        self.set_font(FAMILY, "", 8.5)
        self.set_text_color(*GREY)
        self.set_x(self.l_margin)
        self.cell(0, 6, self.letter.header_right, align=Align.R)
        self.set_draw_color(*RULE)
        self.set_line_width(0.3)
        self.line(self.l_margin, 21.5, self.w - self.r_margin, 21.5)
        self.set_y(MARGIN_TOP)

    def footer(self):
        self.set_y(-14)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y() - 1.5, self.w - self.r_margin, self.get_y() - 1.5)
        self.set_font(FAMILY, "", 8)
        self.set_text_color(*GREY)
        self.cell(0, 5, self.letter.footer or FOOTER_NOTE, align=Align.L)
        self.set_x(self.l_margin)
        self.cell(0, 5, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align=Align.R)


def render(letter: Letter) -> bytes:
    """Draw a letter; same letter, same bytes."""
    check_glyphs(_texts(letter))
    pdf = _Page(letter)
    pdf.add_font(FAMILY, "", REGULAR)
    pdf.add_font(FAMILY, "B", BOLD)
    pdf.set_margins(MARGIN_X, MARGIN_TOP, MARGIN_X)
    pdf.set_auto_page_break(auto=True, margin=MARGIN_BOTTOM)
    issued_at = datetime(letter.issued_on.year, letter.issued_on.month, letter.issued_on.day, tzinfo=CN_ZONE)
    pdf.set_creation_date(issued_at)
    pdf.set_title(f"{letter.title} {letter.reference}")
    pdf.set_author(letter.author)
    pdf.set_subject(letter.title)
    pdf.set_lang("zh-CN")
    pdf.set_display_mode(zoom="fullwidth")
    pdf.add_page()

    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "B", 17)
    pdf.cell(0, 11, letter.title, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 9)
    pdf.set_text_color(*GREY)
    pdf.cell(0, 6, f"编号：{letter.reference}　　日期：{chinese_date(letter.issued_on)}", align=Align.C,
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    for block in letter.blocks:
        _draw(pdf, block)
    return bytes(pdf.output())


def _body(pdf: FPDF, bold: bool = False) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", BODY_PT)
    pdf.set_text_color(*INK)


def _draw(pdf: FPDF, block) -> None:
    width = pdf.epw
    if isinstance(block, Heading):
        if pdf.will_page_break(LINE * 4):
            pdf.add_page()
        pdf.ln(2.5)
        _body(pdf, bold=True)
        pdf.set_font_size(11.5)
        pdf.cell(0, LINE + 1, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(0.8)
    elif isinstance(block, Para):
        _body(pdf, bold=block.bold)
        _lines_out(pdf, block.text, x=pdf.l_margin, width=width)
        pdf.ln(1.5)
    elif isinstance(block, Items):
        _body(pdf)
        indent = 7.0
        for number, line in enumerate(block.lines, start=1):
            if pdf.will_page_break(LINE):
                pdf.add_page()
            pdf.set_x(pdf.l_margin)
            pdf.cell(indent, LINE, f"{number}.")
            _lines_out(pdf, line, x=pdf.l_margin + indent, width=width - indent)
            pdf.ln(0.6)
        pdf.ln(1)
    elif isinstance(block, Table):
        _draw_table(pdf, block.rows, block.total)
    elif isinstance(block, Grid):
        _draw_grid(pdf, block)
    elif isinstance(block, Signature):
        if pdf.will_page_break(LINE * (len(block.lines) + 2)):
            pdf.add_page()
        pdf.ln(LINE)
        _body(pdf)
        for line in block.lines:
            pdf.cell(0, LINE, line, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        raise TypeError(f"unknown block {block!r}")


# Chinese line breaking (a light 禁则): no line starts with closing punctuation, none ends with an opening one,
# and a run of Latin letters, digits and signs (a phone number, an amount, a web address) stays whole.
NO_LINE_START = frozenset("，。、；：？！）》」』”’…—%,.;:?!)]}")
NO_LINE_END = frozenset("（《「『“‘([{")
TOKEN = re.compile(r"[0-9A-Za-z¥*.,:/@%#&+\-]+|\s+|.", re.S)
MAX_SPACING = 0.6  # mm between two characters; wider gaps would read as spaces, so such lines stay ragged


def break_lines(text: str, width: float, measure) -> list[str]:
    """Split text into lines no wider than `width` as measured by `measure(str) -> float`."""
    lines: list[list[str]] = []
    line: list[str] = []
    for token in TOKEN.findall(text):
        if not line and token.isspace():
            continue
        if not line or measure("".join(line) + token) <= width:
            line.append(token)
            continue
        carried: list[str] = []
        if token in NO_LINE_START and len(line) > 1:
            carried.append(line.pop())
        while len(line) > 1 and line[-1] in NO_LINE_END:
            carried.insert(0, line.pop())
        lines.append(line)
        line = [*carried, *([] if token.isspace() else [token])]
    if line:
        lines.append(line)
    out = []
    for tokens in lines:
        text_line = "".join(tokens).rstrip()
        while measure(text_line) > width and len(text_line) > 1:  # one token wider than a line
            cut = len(text_line) - 1
            while cut > 1 and measure(text_line[:cut]) > width:
                cut -= 1
            out.append(text_line[:cut])
            text_line = text_line[cut:]
        out.append(text_line)
    return out


def _lines_out(pdf: FPDF, text: str, *, x: float, width: float) -> None:
    """Set a paragraph: every line but the last spread to the full width, as Chinese text is."""
    lines = break_lines(text, width, pdf.get_string_width)
    for index, line in enumerate(lines):
        if pdf.will_page_break(LINE):
            pdf.add_page()
        pdf.set_char_spacing(0)
        spacing = 0.0
        if index < len(lines) - 1 and len(line) > 1:
            spacing = (width - pdf.get_string_width(line)) / (len(line) - 1)
            spacing = spacing if 0 < spacing <= MAX_SPACING else 0.0
        pdf.set_char_spacing(spacing * pdf.k)  # fpdf2 writes the value as Tc, which is in points
        pdf.set_x(x)
        pdf.cell(width, LINE, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_char_spacing(0)


def _draw_table(pdf: FPDF, rows: Sequence[tuple[str, str]], total: tuple[str, str] | None) -> None:
    money = total is not None
    _body(pdf)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    label_width = 42.0
    value_width = pdf.epw - label_width
    all_rows = list(rows) + ([total] if total else [])
    with pdf.table(
        width=label_width + value_width,
        col_widths=(label_width, value_width),
        align=Align.L,
        text_align=(Align.L, Align.R if money else Align.L),
        first_row_as_headings=False,
        line_height=LINE,
        padding=(0.8, 2.5),
        wrapmode=WrapMode.CHAR,
        headings_style=FontFace(emphasis=None),
        cell_fill_color=SHADE,
        cell_fill_mode="EVEN_COLUMNS",
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        for index, (label, value) in enumerate(all_rows):
            is_total = money and index == len(all_rows) - 1
            style = FontFace(emphasis="BOLD") if is_total else None
            row = table.row()
            row.cell(label, style=style)
            row.cell(value, style=style)
    pdf.ln(3)


def _draw_grid(pdf: FPDF, grid: Grid) -> None:
    _body(pdf)
    pdf.set_font_size(9.5)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    rows = [grid.headings, *grid.rows, *([grid.total] if grid.total else [])]
    with pdf.table(
        width=pdf.epw,
        align=Align.L,
        text_align=tuple(Align.L if i < grid.numbers_from else Align.R for i in range(len(grid.headings))),
        first_row_as_headings=True,
        repeat_headings=1,
        line_height=LINE - 0.8,
        padding=(0.8, 2.0),
        wrapmode=WrapMode.CHAR,
        headings_style=FontFace(emphasis="BOLD", fill_color=SHADE),
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        for index, values in enumerate(rows):
            is_total = grid.total is not None and index == len(rows) - 1
            row = table.row()
            for value in values:
                row.cell(value, style=FontFace(emphasis="BOLD") if is_total else None)
    pdf.ln(3)
