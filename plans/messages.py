"""The SMS and email texts plans sends: portal links, one-time codes, installment reminders and the thank-you.
Lawful and polite: who writes, what it is about, how to reach the bank; never a threat, never a third party.
Installed after every migrate; a text a supervisor edited is never overwritten."""

from negotiation.services import message_templates_add_missing

PORTAL_LINK = "portal_link"
ONE_TIME_CODE = "one_time_code"
INSTALLMENT_BEFORE = "installment_before"
INSTALLMENT_DUE_DAY = "installment_due_day"
INSTALLMENT_AFTER_MISS = "installment_after_miss"
AGREEMENT_THANKS = "agreement_thanks"

# (code, channel, language, subject, body)
SHIPPED = (
    (
        PORTAL_LINK,
        "sms",
        "zh-hans",
        "",
        "{{ name }}您好，我行已为您尾号{{ card_last4 }}的信用卡准备了还款方案，请点击 {{ link }} "
        "核实身份后查看、选择并在线签署。链接仅限本人使用。咨询请致电{{ bank_phone }}。",
    ),
    (
        PORTAL_LINK,
        "sms",
        "en",
        "",
        "Dear {{ name }}, we have prepared repayment plans for your card ending {{ card_last4 }}. Open "
        "{{ link }} to confirm your identity, compare the plans and sign online. This link is for you only. "
        "Questions: {{ bank_phone }}.",
    ),
    (
        PORTAL_LINK,
        "email",
        "zh-hans",
        "尾号{{ card_last4 }}信用卡的还款方案",
        "{{ name }}您好：\n\n我行已为您尾号{{ card_last4 }}的信用卡准备了还款方案。请打开以下链接，"
        "核实身份后比较各方案，选择合适的一种并在线签署还款协议：\n\n{{ link }}\n\n"
        "链接仅限本人使用，请勿转发。如方案都不合适，您可以在页面上提出自己的建议，"
        "也可致电{{ bank_phone }}与我们协商。",
    ),
    (
        PORTAL_LINK,
        "email",
        "en",
        "Repayment plans for your card ending {{ card_last4 }}",
        "Dear {{ name }},\n\nWe have prepared repayment plans for your card ending {{ card_last4 }}. Open the "
        "link below, confirm your identity, compare the plans, choose the one that suits you and sign the "
        "repayment agreement online:\n\n{{ link }}\n\nThe link is for you only; please do not forward it. If "
        "none of the plans fits, you can propose your own on the page or call us on {{ bank_phone }}.",
    ),
    (
        ONE_TIME_CODE,
        "sms",
        "zh-hans",
        "",
        "您的验证码为{{ code }}，仅用于核实身份或签署还款协议，请勿告诉任何人。如非本人操作，请致电{{ bank_phone }}。",
    ),
    (
        ONE_TIME_CODE,
        "sms",
        "en",
        "",
        "Your code is {{ code }}. It is only for confirming your identity or signing your repayment agreement; "
        "never share it. Not you? Call {{ bank_phone }}.",
    ),
    (
        INSTALLMENT_BEFORE,
        "sms",
        "zh-hans",
        "",
        "{{ name }}您好，温馨提示：您的还款协议{{ agreement_number }}本期应还{{ amount }}元，还款日为{{ due_date }}。"
        "请提前备足款项。咨询请致电{{ bank_phone }}。",
    ),
    (
        INSTALLMENT_BEFORE,
        "sms",
        "en",
        "",
        "Dear {{ name }}, a reminder: CNY {{ amount }} of your repayment agreement {{ agreement_number }} is due on "
        "{{ due_date }}. Questions: {{ bank_phone }}.",
    ),
    (
        INSTALLMENT_DUE_DAY,
        "sms",
        "zh-hans",
        "",
        "{{ name }}您好，今天（{{ due_date }}）是您还款协议{{ agreement_number }}的还款日，本期应还{{ amount }}元。"
        "如已还款请忽略。咨询请致电{{ bank_phone }}。",
    ),
    (
        INSTALLMENT_DUE_DAY,
        "sms",
        "en",
        "",
        "Dear {{ name }}, today ({{ due_date }}) CNY {{ amount }} of your repayment agreement {{ agreement_number }} "
        "is due. Please ignore this if you have paid. Questions: {{ bank_phone }}.",
    ),
    (
        INSTALLMENT_AFTER_MISS,
        "sms",
        "zh-hans",
        "",
        "{{ name }}您好，我们尚未收到您还款协议{{ agreement_number }}于{{ due_date }}到期的{{ amount }}元。"
        "如有困难，请尽快致电{{ bank_phone }}，我们愿意与您一起想办法。如已还款请忽略。",
    ),
    (
        INSTALLMENT_AFTER_MISS,
        "sms",
        "en",
        "",
        "Dear {{ name }}, we have not yet received CNY {{ amount }} of your repayment agreement {{ agreement_number }} "
        "due on {{ due_date }}. If you are in difficulty, please call {{ bank_phone }}; we will look for a way "
        "with you. Please ignore this if you have paid.",
    ),
    (
        INSTALLMENT_BEFORE,
        "email",
        "zh-hans",
        "还款提醒：协议{{ agreement_number }}还款日{{ due_date }}",
        "{{ name }}您好：\n\n您的还款协议{{ agreement_number }}本期应还{{ amount }}元，还款日为{{ due_date }}。"
        "请提前备足款项。\n\n如有疑问，请致电{{ bank_phone }}。",
    ),
    (
        INSTALLMENT_BEFORE,
        "email",
        "en",
        "Reminder: agreement {{ agreement_number }} due on {{ due_date }}",
        "Dear {{ name }},\n\nCNY {{ amount }} of your repayment agreement {{ agreement_number }} is due on "
        "{{ due_date }}.\n\nQuestions: {{ bank_phone }}.",
    ),
    (
        AGREEMENT_THANKS,
        "sms",
        "zh-hans",
        "",
        "{{ name }}您好，您的还款协议{{ agreement_number }}已全部履行完毕，感谢您的信任与配合！"
        "欢迎花一分钟评价我们的服务：{{ link }} 咨询请致电{{ bank_phone }}。",
    ),
    (
        AGREEMENT_THANKS,
        "sms",
        "en",
        "",
        "Dear {{ name }}, your repayment agreement {{ agreement_number }} is complete. Thank you! Would you rate "
        "our service? It takes a minute: {{ link }} Questions: {{ bank_phone }}.",
    ),
    (
        AGREEMENT_THANKS,
        "email",
        "zh-hans",
        "还款协议{{ agreement_number }}已履行完毕",
        "{{ name }}您好：\n\n您的还款协议{{ agreement_number }}已全部履行完毕，感谢您的信任与配合！\n\n"
        "如您愿意，请花一分钟评价我们的服务：\n\n{{ link }}\n\n如有疑问，请致电{{ bank_phone }}。",
    ),
    (
        AGREEMENT_THANKS,
        "email",
        "en",
        "Repayment agreement {{ agreement_number }} complete",
        "Dear {{ name }},\n\nYour repayment agreement {{ agreement_number }} is complete. Thank you for working "
        "with us!\n\nIf you have a minute, please rate our service:\n\n{{ link }}\n\nQuestions: {{ bank_phone }}.",
    ),
)


def plan_templates_ensure_shipped(**kwargs) -> None:
    """post_migrate: add plans' shipped texts that are missing."""
    message_templates_add_missing(SHIPPED)
