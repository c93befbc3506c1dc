"""The starting screening lexicon: words and phrases collectors must not write or send (docs/architecture.md).

Installed after every migrate by `compliance.services.screening_terms_ensure_shipped`, which only adds
terms that are missing; supervisors and compliance officers edit the list in the browser from there
(a shipped term they deactivated stays deactivated).

How a term matches is described in `compliance.screening`: a term with Chinese characters matches as a
substring, any other term as whole words (an English inflection -s, -es, -ed, -ing, -er may follow).
"""

from compliance.models import ScreeningTerm

ZH = "zh-hans"
EN = "en"

THREAT = ScreeningTerm.Category.THREAT
ABUSE = ScreeningTerm.Category.ABUSE
IMPERSONATION = ScreeningTerm.Category.IMPERSONATION
DISCLOSURE = ScreeningTerm.Category.DISCLOSURE
FALSE_CLAIM = ScreeningTerm.Category.FALSE_CLAIM

CHINESE: dict[str, tuple[str, ...]] = {
    THREAT: (
        "打死", "杀", "弄死", "砍死", "要你命", "要你的命", "废了你", "打断你的腿", "收拾你", "让你好看",
        "你等着瞧", "找人上门", "泼油漆", "全家不得安宁", "出门小心",
    ),
    ABUSE: (
        "骗子", "老赖", "无赖", "垃圾", "废物", "不要脸", "去死", "滚蛋", "王八蛋", "混蛋", "畜生", "傻逼",
        "贱人", "人渣", "死皮赖脸",
    ),
    IMPERSONATION: (
        "公安", "警察", "警方", "派出所", "检察院", "法院传票", "法官", "我是法院", "法院工作人员",
        "执法人员", "政府工作人员", "网警",
    ),
    DISCLOSURE: (
        "通知你单位", "通知你的单位", "通知你家人", "通知你的家人", "告诉你家人", "告诉你的家人",
        "告诉你单位", "告诉你同事", "告诉你领导", "联系你单位", "打给你的通讯录", "通讯录", "曝光",
        "发朋友圈", "贴大字报",
    ),
    FALSE_CLAIM: (
        "坐牢", "拘留", "逮捕", "抓你", "抓起来", "判刑", "案底", "黑名单", "影响子女", "子女上学",
        "冻结你的所有", "上征信黑名单", "立案抓捕",
    ),
}

ENGLISH: dict[str, tuple[str, ...]] = {
    THREAT: (
        "kill", "hurt you", "beat you", "break your legs", "you will regret", "we know where you live",
        "watch your back", "harm your family", "burn your",
    ),
    ABUSE: (
        "idiot", "stupid", "loser", "scum", "deadbeat", "liar", "fraudster", "moron", "bastard", "bitch",
        "worthless", "trash",
    ),
    IMPERSONATION: (
        "police", "policeman", "police officer", "court officer", "court summons", "sheriff", "law enforcement",
        "government official", "federal agent", "fbi", "officer of the court",
    ),
    DISCLOSURE: (
        "tell your employer", "call your employer", "contact your employer", "tell your boss", "tell your family",
        "tell your neighbours", "tell your neighbors", "tell your friends", "tell your colleagues",
        "post it online", "social media", "expose you",
    ),
    FALSE_CLAIM: (
        "arrest", "jail", "prison", "criminal record", "criminal charges", "warrant", "blacklist",
        "deport", "seize your house",
    ),
}


def default_terms() -> list[tuple[str, str, str]]:
    """Every shipped term as (language, category, term)."""
    return [
        (language, category, term)
        for language, table in ((ZH, CHINESE), (EN, ENGLISH))
        for category, terms in table.items()
        for term in terms
    ]
