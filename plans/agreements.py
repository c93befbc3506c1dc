"""The repayment agreement (还款协议): its PDF in Chinese, signing it in the portal, and reading it back.

The PDF states what the CN rules for personalised installments require (docs/architecture.md): the parties, the
balance and how it is made up, the schedule, what accrues during repayment, the undertaking not to apply
for new cards, rights, duties and breach. Signing keeps the file under MEDIA_ROOT/private/ with its SHA-256;
`agreement_pdf_bytes` refuses (and audits) a file that no longer matches; `agreement_download` is how staff read it.
"""

import hashlib
import ipaddress
import uuid
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import CardAccount, Case, CaseStatus
from cases.services import case_transition_by_system
from compliance import audit
from compliance.masking import mask_national_id
from compliance.models import AuditEvent, Hold
from compliance.reasons import ReasonCode
from compliance.services import hold_set
from config.errors import Conflict, DomainError
from negotiation import letters
from negotiation.dispatch import bank_sender
from negotiation.letters import Grid, Heading, Items, Letter, Para, Table, chinese_date, yuan
from plans.codes import atomic_keeping_code_attempts, code_verify, link_require_live
from plans.models import Agreement, Installment, Offer, OneTimeCode, PortalEvent, PortalLink
from plans.schedule import fen, waived
from plans.selectors import agreements_visible

HUNDRED = Decimal("100")
TITLE = "信用卡个性化分期还款协议"
FOOTER = "本协议内容仅限持卡人本人知悉"
USER_AGENT_MAX = 300

KIND_TEXT = {
    "installments": "分期还款",
    "deferral": "延期还款",
    "pause": "暂停还款（含宽限期）",
    "restructure": "债务重组",
}
METHOD_TEXT = {
    "annuity": "等额本息",
    "equal_principal": "等额本金",
    "flat_fee": "等额本金，按月收取固定分期手续费",
}


class AgreementError:
    ALREADY_SIGNED = "already_signed"
    OFFER_CLOSED = "offer_closed"
    OFFER_NOT_ACCEPTED = "offer_not_accepted"
    OFFER_STALE = "offer_stale"
    LINK_OTHER_CASE = "link_other_case"
    NAME_MISMATCH = "signer_name_mismatch"
    CONSENT_REQUIRED = "consent_required"
    GLYPH_MISSING = "glyph_missing"
    HASH_MISMATCH = "hash_mismatch"


class AgreementAltered(Conflict):
    """The stored PDF no longer matches the SHA-256 taken when it was signed."""

    code = AgreementError.HASH_MISMATCH


# --- The PDF -----------------------------------------------------------------------------------------


def _percent(fraction_or_pct: Decimal, *, is_fraction: bool) -> str:
    value = fraction_or_pct * HUNDRED if is_fraction else fraction_or_pct
    return f"{value.quantize(Decimal('0.0001')).normalize():f}%"


def _amount(value) -> str:
    """An amount in a schedule cell: thousands separators, two decimals, no sign (the heading says 元)."""
    return f"{fen(Decimal(value)):,.2f}"


def _schedule(offer: Offer) -> list[dict]:
    """offer.schedule (plans.schedule.Schedule.as_json) with dates and money parsed."""
    return [
        {
            "number": int(row["number"]),
            "due_date": date.fromisoformat(row["due_date"]),
            "amount": Decimal(row["amount"]),
            "principal": Decimal(row["principal"]),
            "interest": Decimal(row["interest"]),
            "fee": Decimal(row["fee"]),
        }
        for row in offer.schedule
    ]


def _accrual_text(offer: Offer, interest: Decimal, fees: Decimal) -> str:
    """What accrues while the agreement is kept; matches plans.schedule (grace months accrue nothing)."""
    keep = ("除上表所列款项外，乙方按本协议按期足额还款期间，甲方不再对本协议项下欠款另行计收利息、"
            "手续费、违约金、滞纳金或其他任何费用。")
    grace = ""
    if offer.grace_months:
        grace = f"首 {offer.grace_months} 个月为宽限期，宽限期内不计收利息和费用。"
    if interest == 0 and fees == 0:
        return f"分期期间不收取利息和手续费。{grace}{keep}"
    parts = []
    if interest:
        parts.append(f"利息（按剩余本金、年利率 {_percent(offer.annual_rate, is_fraction=True)} 计算）{yuan(interest)}")
    if fees:
        parts.append(
            f"分期手续费（按纳入分期金额的每月 {_percent(offer.monthly_fee_rate, is_fraction=True)} 计算）{yuan(fees)}"
        )
    return f"分期期间应付的{'、'.join(parts)}已全部列入上表还款计划。{grace}{keep}"


def agreement_letter(*, offer: Offer, number: str, signer_name: str, signed_at: datetime) -> Letter:
    """The agreement as blocks of text; `agreement_pdf` draws it."""
    case = offer.case
    account = case.account
    debtor = account.debtor
    bank = bank_sender()
    local = timezone.localtime(signed_at, letters.CN_ZONE)
    rows = _schedule(offer)
    interest = sum((row["interest"] for row in rows), Decimal("0"))
    fees = sum((row["fee"] for row in rows), Decimal("0"))
    waived_interest = waived(offer.interest, offer.interest_waiver_pct)
    waived_fees = waived(offer.fees, offer.fee_waiver_pct)
    grace_days, misses = settings.INSTALLMENT_GRACE_DAYS, settings.INSTALLMENT_MISSES_TO_BREACH
    mobile_last4 = debtor.mobile[-4:]

    parties = [("甲方（发卡机构）", bank.name), ("甲方地址", bank.address), ("乙方（持卡人）", debtor.full_name)]
    if debtor.national_id:
        parties.append(("证件号码", mask_national_id(debtor.national_id)))
    parties += [("信用卡卡号", f"尾号 {account.card_last4}"), ("协议编号", number)]

    if offer.new_limit is not None:
        until = f"，有效期至{chinese_date(offer.new_limit_expires_on)}" if offer.new_limit_expires_on else ""
        limit_text = (f"甲方将乙方信用卡的临时信用额度调整为 {yuan(offer.new_limit)}{until}；到期后恢复为原信用额度 "
                      f"{yuan(account.credit_limit)}。临时额度内的新增消费不属于本协议的还款计划，按《信用卡领用合约》"
                      "另行计息和还款。")
    else:
        limit_text = "本协议不涉及信用额度调整。"

    blocks = [
        Table(rows=tuple(parties)),
        Para(f"乙方因暂时还款困难，向甲方申请个性化分期还款。经双方平等协商，依据《中华人民共和国民法典》"
             f"《商业银行信用卡业务监督管理办法》等规定，就乙方信用卡（卡号尾号 {account.card_last4}）欠款的"
             "还款安排达成如下协议："),
        Heading("一、欠款金额及构成"),
        Para("截至本协议签署日，乙方信用卡欠款如下（币种：人民币 CNY）："),
        Table(
            rows=(
                ("欠款本金", yuan(offer.principal)), ("欠款利息", yuan(offer.interest)), ("欠款费用", yuan(offer.fees)),
            ),
            total=("欠款合计", yuan(offer.principal + offer.interest + offer.fees)),
        ),
        Para("甲方同意减免以下款项："),
        Table(
            rows=(
                ("减免利息", f"{yuan(waived_interest)}（{_percent(offer.interest_waiver_pct, is_fraction=False)}）"),
                ("减免费用", f"{yuan(waived_fees)}（{_percent(offer.fee_waiver_pct, is_fraction=False)}）"),
            ),
            total=("减免合计", yuan(offer.total_waived)),
        ),
        Table(
            rows=(
                ("纳入分期金额", yuan(offer.financed_amount)),
                ("分期期间利息", yuan(interest)),
                ("分期期间手续费", yuan(fees)),
            ),
            total=("应还总额", yuan(offer.total_payable)),
        ),
        Para("纳入分期金额为欠款合计减去减免合计。以上金额均以人民币（CNY）计。"),
        Heading("二、还款计划"),
        Table(rows=(
            ("还款方式", f"{KIND_TEXT.get(offer.kind, offer.kind)}（{METHOD_TEXT.get(offer.method, offer.method)}）"),
            ("分期期数", f"{len(rows)} 期"),
            ("宽限期", f"{offer.grace_months} 个月" if offer.grace_months else "无"),
            ("首期还款日", chinese_date(rows[0]["due_date"])),
            ("末期还款日", chinese_date(rows[-1]["due_date"])),
        )),
        Grid(
            headings=("期数", "还款日", "应还金额（元）", "本金（元）", "利息（元）", "手续费（元）"),
            rows=tuple(
                (str(row["number"]), chinese_date(row["due_date"]), _amount(row["amount"]), _amount(row["principal"]),
                 _amount(row["interest"]), _amount(row["fee"]))
                for row in rows
            ),
            total=("合计", "", _amount(offer.total_payable), _amount(offer.financed_amount), _amount(interest),
                   _amount(fees)),
            numbers_from=2,
        ),
        Para("乙方应在每期还款日（含当日）前，通过甲方官方渠道将当期应还金额存入上述信用卡账户。"),
        Heading("三、分期期间的利息和费用"),
        Para(_accrual_text(offer, interest, fees)),
        Heading("四、乙方的承诺"),
        Para("在本协议项下欠款全部结清之前，乙方承诺不向甲方申请办理新的信用卡。", bold=True),
        Heading("五、临时额度调整"),
        Para(limit_text),
        Heading("六、乙方的权利"),
        Items((
            f"查询权：乙方可随时通过甲方客服热线 {bank.phone}（{bank.hours}）、手机银行或本协议的在线页面，"
            "查询还款计划、已还金额和剩余欠款。",
            "提前还款权：乙方可随时提前偿还部分或全部欠款，甲方不收取提前还款违约金；提前还清的，"
            "尚未到期各期的利息和手续费不再收取。",
            f"异议权：乙方对欠款金额、还款计划或本协议内容有异议的，可拨打客服热线 {bank.phone} 或书面寄至"
            f"甲方（{bank.address}）提出，甲方核实后答复乙方；核实期间暂停对有异议部分的催收。",
            f"投诉权：乙方可拨打甲方投诉热线 {bank.complaint_line}，甲方在 {letters.COMPLAINT_DAYS} 日内处理并答复；"
            f"乙方也可拨打金融消费者投诉热线 {letters.REGULATOR_HOTLINE} 反映。",
            "信息保护：甲方依照《中华人民共和国个人信息保护法》处理乙方的个人信息，不向与本协议无关的第三人透露。",
        )),
        Heading("七、乙方的义务"),
        Items((
            "按本协议的还款计划按期足额还款，只通过甲方官方渠道还款，切勿向任何个人账户转账。",
            "联系电话、通讯地址等信息变更的，及时通知甲方。",
            "向甲方提供的收入、支出等情况真实、完整。",
        )),
        Heading("八、甲方的义务"),
        Items((
            "乙方履行本协议期间，甲方停止对本协议项下欠款的催收，仅发送还款提醒等服务信息。",
            "乙方每期还款后，甲方按还款计划入账，乙方可随时查询。",
            "乙方全部履行本协议后，甲方确认本协议项下欠款结清。",
        )),
        Heading("九、违约"),
        Para(f"任一期应还金额在还款日后 {grace_days} 日（宽限期）内仍未足额偿还的，该期视为未按约还款。"
             f"累计 {misses} 期未按约还款的，本协议终止，甲方恢复对剩余欠款的催收，并可依照《信用卡领用合约》"
             "和法律规定主张权利；乙方已偿还的款项冲抵欠款，不予退还。"),
        Heading("十、其他"),
        Items((
            "本协议由乙方以电子签名方式签署，依照《中华人民共和国电子签名法》与书面签字具有同等法律效力，自签署时生效，"
            "至本协议项下欠款全部结清或本协议终止时止。",
            "本协议未约定的事项，按双方签订的《信用卡领用合约》执行。",
            "本协议的电子文本由甲方保存，乙方可随时下载。",
        )),
        Heading("十一、签署"),
        Table(rows=(
            ("甲方", bank.name),
            ("乙方（签名）", signer_name),
            ("签署时间", f"{chinese_date(local.date())} {local:%H:%M:%S}（北京时间）"),
            ("签署方式", f"电子签名：乙方输入本人姓名、确认同意本协议，并以发送至尾号{mobile_last4}的手机的"
                        "一次性验证码确认签署"),
        )),
    ]
    return Letter(
        title=TITLE,
        reference=number,
        issued_on=local.date(),
        header_left=bank.name,
        header_right=f"协议编号：{number}",
        author=bank.name,
        blocks=tuple(blocks),
        footer=FOOTER,
    )


def agreement_pdf(*, offer: Offer, number: str, signer_name: str, signed_at: datetime) -> bytes:
    """The agreement for this offer as PDF bytes (A4, Chinese, embedded font, extractable text)."""
    return letters.render(agreement_letter(offer=offer, number=number, signer_name=signer_name, signed_at=signed_at))


# --- Signing ---------------------------------------------------------------------------------------------


def _require_signable(offer: Offer, case: Case, account: CardAccount) -> None:
    if offer.status == Offer.Status.SIGNED:
        raise Conflict(_("This plan has already been signed."), code=AgreementError.ALREADY_SIGNED)
    if offer.status in (Offer.Status.WITHDRAWN, Offer.Status.REJECTED):
        raise Conflict(_("This plan is no longer offered."), code=AgreementError.OFFER_CLOSED)
    if offer.status != Offer.Status.ACCEPTED:
        raise Conflict(_("Please choose this plan before signing it."), code=AgreementError.OFFER_NOT_ACCEPTED)
    balance_now = (account.principal_overdue, account.interest_overdue, account.fees_overdue)
    if case.status != CaseStatus.PLAN or balance_now != (offer.principal, offer.interest, offer.fees):
        raise Conflict(
            _("Your balance has changed since this plan was made. Please contact the bank for an updated plan."),
            code=AgreementError.OFFER_STALE,
        )


def _require_signer(*, signer_name: str, full_name: str, consent: bool) -> str:
    name = (signer_name or "").strip()
    if name != full_name.strip():
        raise DomainError(
            _("The name must be typed exactly as the cardholder's name on record."), code=AgreementError.NAME_MISMATCH
        )
    if consent is not True:
        raise DomainError(_("Please confirm that you agree to the agreement."), code=AgreementError.CONSENT_REQUIRED)
    return name


def _valid_ip(ip: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((ip or "").strip()))
    except ValueError:
        return None


def agreement_number(*, case: Case, signed_at: datetime) -> str:
    """AG20261129-00000042-1: the day, the case, and the how-many-th agreement of the case."""
    day = timezone.localtime(signed_at, letters.CN_ZONE).date()
    return f"AG{day:%Y%m%d}-{case.pk:08d}-{case.agreements.count() + 1}"


def _render(offer: Offer, number: str, signer_name: str, signed_at: datetime) -> bytes:
    try:
        return agreement_pdf(offer=offer, number=number, signer_name=signer_name, signed_at=signed_at)
    except letters.GlyphMissing as error:
        raise DomainError(
            _("The agreement font cannot print these characters: %(chars)s") % {"chars": error.characters},
            code=AgreementError.GLYPH_MISSING,
        ) from None


def agreement_sign(
    *, offer_id: int, link_id: int, signer_name: str, consent: bool, code: str, ip: str | None, user_agent: str
) -> Agreement:
    """Sign an accepted offer through the portal: check everything, then keep the PDF, the installments,
    the limit change, the case's move to follow_up and the agreement hold in one transaction."""
    case_id, account_id = Offer.objects.filter(pk=offer_id).values_list("case_id", "case__account_id").get()
    with atomic_keeping_code_attempts():
        # Account, then case, then offer: payment_record locks the account before the case, and the balance
        # the offer was built on must not move while it is signed.
        account = CardAccount.objects.select_for_update().get(pk=account_id)
        case = Case.objects.select_for_update(of=("self",)).select_related("account__debtor").get(pk=case_id)
        offer = Offer.objects.select_for_update().get(pk=offer_id)
        now = timezone.now()
        link = PortalLink.objects.get(pk=link_id)
        link_require_live(link, now)
        if link.case_id != case.pk:
            raise DomainError(_("This link is not for this plan."), code=AgreementError.LINK_OTHER_CASE)
        _require_signable(offer, case, account)
        name = _require_signer(signer_name=signer_name, full_name=case.account.debtor.full_name, consent=consent)
        otp = code_verify(link_id=link.pk, purpose=OneTimeCode.Purpose.SIGN, code=code)

        offer.case = case  # the PDF states the balance of the rows locked above
        number = agreement_number(case=case, signed_at=now)
        content = _render(offer, number, name, now)
        agreement = Agreement(
            case=case,
            offer=offer,
            number=number,
            sha256=hashlib.sha256(content).hexdigest(),
            signer_name=name,
            signed_at=now,
            signer_ip=_valid_ip(ip),
            signer_user_agent=(user_agent or "")[:USER_AGENT_MAX],
            code=otp,
            channel=Agreement.Channel.PORTAL,
        )
        agreement.pdf.save(f"{uuid.uuid4().hex}.pdf", ContentFile(content), save=False)
        try:
            _agreement_keep_portal(agreement=agreement, offer=offer, case=case, account=account, link=link)
        except Exception:
            agreement.pdf.delete(save=False)
            raise
    return agreement


def agreement_keep(
    *, agreement: Agreement, offer: Offer, case: Case, account: CardAccount, reason_code: str, reason_params: dict
) -> dict:
    """What signing does whatever the channel, on rows the caller locked (account, case, offer): keep the agreement
    and its installments, apply the limit change, mark the offer signed and withdraw the others, move the case
    plan → signed_agreement → follow_up and put the agreement hold. Returns the changes for the caller's audit."""
    agreement.save()
    Installment.objects.bulk_create(
        Installment(agreement=agreement, number=row["number"], due_date=row["due_date"], amount=row["amount"],
                    principal=row["principal"], interest=row["interest"], fee=row["fee"])
        for row in _schedule(offer)
    )
    limit_changes = {}
    if offer.new_limit is not None:
        limit_changes = {
            "temporary_limit": [account.temporary_limit, offer.new_limit],
            "temporary_limit_expires_on": [account.temporary_limit_expires_on, offer.new_limit_expires_on],
        }
        account.temporary_limit = offer.new_limit
        account.temporary_limit_expires_on = offer.new_limit_expires_on
        account.save(update_fields=["temporary_limit", "temporary_limit_expires_on", "updated_at"])
    offer.status = Offer.Status.SIGNED
    offer.save(update_fields=["status"])
    others = Offer.objects.filter(case=case, status__in=Offer.OPEN).exclude(pk=offer.pk)
    withdrawn = list(others.values_list("pk", flat=True))
    others.update(status=Offer.Status.WITHDRAWN)
    signed = {"reason_code": reason_code, "reason_params": reason_params}
    case_transition_by_system(case_id=case.pk, name="sign_agreement", **signed)
    case_transition_by_system(case_id=case.pk, name="start_follow_up", **signed)
    hold_set(case_id=case.pk, kind=Hold.Kind.AGREEMENT_IN_FORCE, actor=None, **signed)
    return {
        "number": agreement.number,
        "channel": agreement.channel,
        "offer": offer.pk,
        "sha256": agreement.sha256,
        "installments": len(offer.schedule),
        "total_payable": offer.total_payable,
        "withdrawn_offers": withdrawn,
        **limit_changes,
    }


def _agreement_keep_portal(
    *, agreement: Agreement, offer: Offer, case: Case, account: CardAccount, link: PortalLink
) -> None:
    changes = agreement_keep(
        agreement=agreement,
        offer=offer,
        case=case,
        account=account,
        reason_code=ReasonCode.AGREEMENT_SIGNED,
        reason_params={"number": agreement.number},
    )
    PortalEvent.objects.create(
        link=link,
        case=case,
        kind=PortalEvent.Kind.SIGNED,
        detail={"offer": offer.pk, "agreement": agreement.number},
        ip=agreement.signer_ip,
        user_agent=agreement.signer_user_agent,
        at=agreement.signed_at,
    )
    audit.record(
        action="agreement.sign",
        actor_kind=AuditEvent.ActorKind.CARDHOLDER,
        actor_label=f"portal link {link.pk}",
        target=agreement,
        case_id=case.pk,
        changes=changes,
        ip=agreement.signer_ip,
    )


# --- Reading it back -------------------------------------------------------------------------------------


def _stored_document(agreement: Agreement):
    """The file that is the signed document and the SHA-256 it must have."""
    return agreement.pdf, agreement.sha256


def agreement_pdf_bytes(
    *, agreement: Agreement, actor=None, actor_kind: str | None = None, actor_label: str = ""
) -> bytes:
    """The stored document, read once and hashed as read, so the bytes served are the bytes checked. When they no
    longer match the SHA-256 kept at signing, an `agreement.hash_mismatch` event naming the reader is recorded and
    AgreementAltered is raised; call it outside a transaction, so that the event outlives the refusal."""
    document, expected = _stored_document(agreement)
    try:
        with document.open("rb") as handle:
            content = handle.read()
    except (OSError, ValueError):  # a missing file (ValueError: no file name at all) is no match either
        content, found = b"", "missing"
    else:
        found = hashlib.sha256(content).hexdigest()
    if found != expected:
        audit.record(
            action="agreement.hash_mismatch",
            actor=actor,
            actor_kind=actor_kind,
            actor_label=actor_label,
            target=agreement,
            case_id=agreement.case_id,
            changes={"number": agreement.number, "file": document.name, "sha256": [expected, found]},
        )
        raise AgreementAltered(_("The stored agreement does not match the one signed; it cannot be served."))
    return content


def agreement_download(*, agreement_id: int, actor) -> tuple[Agreement, bytes]:
    """A signed agreement for a member of staff (Agreement.DoesNotExist outside the cases they may see): the
    hash checked, then the download recorded (who, which agreement, which case)."""
    agreement = agreements_visible(user=actor).prefetch_related(None).get(pk=agreement_id)
    content = agreement_pdf_bytes(agreement=agreement, actor=actor)
    audit.record(
        action="agreement.download",
        actor=actor,
        target=agreement,
        case_id=agreement.case_id,
        changes={"number": agreement.number, "sha256": agreement.sha256},
    )
    return agreement, content
