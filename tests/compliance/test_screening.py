"""Language screening: the matcher, the shipped lexicon, flagged notes, blocked messages, the lexicon and
hits pages."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance import lexicon, screening
from compliance.models import AuditEvent, ScreeningHit, ScreeningTerm
from compliance.services import (
    ScreeningBlocked,
    screening_term_deactivate,
    screening_terms_ensure_shipped,
    text_screen,
)
from config.errors import DomainError
from negotiation.models import Contact, OutboundMessage
from negotiation.services import contact_record, message_queue
from tests.factories import CaseFactory, TeamFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHIPPED = [screening.Term(term, category, language) for language, category, term in lexicon.default_terms()]
TERMS = reverse("compliance:screening-terms")
HITS = reverse("compliance:screening-hits")
ADD = reverse("compliance:screening-term-add")


def found(text: str) -> list[str]:
    return [match.term for match in screening.screen(text, SHIPPED)]


def categories(text: str) -> set[str]:
    return {match.category for match in screening.screen(text, SHIPPED)}


# --- The matcher (no database) -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["再不还钱就打死你", "小心我找人上门收拾你"])
def test_a_chinese_threat_is_caught(text):
    assert categories(text) == {ScreeningTerm.Category.THREAT}


@pytest.mark.parametrize("text", ["Pay today or you will regret it.", "We know where you live."])
def test_an_english_threat_is_caught(text):
    assert ScreeningTerm.Category.THREAT in categories(text)


@pytest.mark.parametrize(
    "text", ["我们是公安局经侦大队的", "这是法院传票，请签收", "This is a court summons", "I am a police officer"]
)
def test_impersonating_police_or_a_court_is_caught(text):
    assert ScreeningTerm.Category.IMPERSONATION in categories(text)


@pytest.mark.parametrize(
    "text", ["再不还款就通知你单位", "我们会告诉你家人你欠钱不还", "We will tell your employer about this debt"]
)
def test_threatening_disclosure_to_third_parties_is_caught(text):
    assert ScreeningTerm.Category.DISCLOSURE in categories(text)


@pytest.mark.parametrize("text", ["不还钱你就等着坐牢吧", "明天就拘留你", "You will be arrested", "你已经上黑名单了"])
def test_false_claims_of_jail_arrest_or_blacklists_are_caught(text):
    assert ScreeningTerm.Category.FALSE_CLAIM in categories(text)


@pytest.mark.parametrize("text", ["你就是个老赖", "骗子！", "you deadbeat"])
def test_insults_are_caught(text):
    assert ScreeningTerm.Category.ABUSE in categories(text)


@pytest.mark.parametrize(
    "text, term",
    [
        ("马上逮 捕你", "逮捕"),
        ("等着坐　牢", "坐牢"),  # an ideographic space
        ("等着坐\n牢", "坐牢"),
        ("逮*捕", "逮捕"),
        ("通知 你 单 位", "通知你单位"),
        ("You will be ＡＲＲＥＳＴＥＤ", "arrest"),
        ("ｐｏｌｉｃｅ are coming", "police"),
        ("you will be a r r e s t e d", "arrest"),
        ("a.r.r.e.s.t", "arrest"),
        ("ar\u200brest", "arrest"),  # a zero-width space
    ],
)
def test_spaced_and_full_width_spellings_do_not_dodge_screening(text, term):
    assert term in found(text)


@pytest.mark.parametrize(
    "text, caught",
    [("Arrest", True), ("arrested", True), ("ARRESTS", True), ("rearrestable", False), ("arrestable", False)],
)
def test_english_terms_match_whole_words_with_their_inflections(text, caught):
    assert ("arrest" in found(text)) is caught


def test_a_short_english_term_does_not_match_inside_another_word():
    assert found("She has great skill with killjoys") == []


@pytest.mark.parametrize(
    "text",
    [
        "请您按时还款",
        "您的账户已逾期，请及时还款。",
        "我们可以为您申请分期还款，减免部分利息。",
        "客户表示下月5日前还款5000元",
        "we can offer an installment plan",
        "We can discuss a payment plan that suits your income.",
        "Please call us back at your convenience.",
    ],
)
def test_ordinary_collection_language_passes(text):
    assert found(text) == []


def test_each_matched_term_is_reported_once_in_the_order_it_appears():
    assert found("骗子！骗子！不还就坐牢，骗子") == ["骗子", "坐牢"]


def test_a_match_points_at_the_original_text():
    text = "请注意：逮 捕令已经下来了"
    [match] = screening.screen(text, SHIPPED)
    assert text[match.start : match.end] == "逮 捕"


def test_an_excerpt_is_at_most_300_characters_and_shows_the_match():
    text = "甲" * 500 + "打死你" + "乙" * 500
    [match] = screening.screen(text, SHIPPED)
    excerpt = screening.excerpt(text, match)
    assert len(excerpt) <= 300
    assert "打死你" in excerpt
    assert excerpt.startswith("…") and excerpt.endswith("…")


# --- The lexicon in the database -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_shipped_lexicon_covers_every_category_in_both_languages():
    pairs = set(ScreeningTerm.objects.filter(active=True).values_list("language", "category").distinct())
    everything = {(language, category) for language in ("zh-hans", "en") for category in ScreeningTerm.Category.values}
    assert pairs == everything


@pytest.mark.django_db
def test_shipping_again_adds_missing_terms_and_leaves_edited_ones_alone():
    ScreeningTerm.objects.filter(language="zh-hans", term="打死").update(active=False)
    ScreeningTerm.objects.filter(language="zh-hans", term="骗子").update(category=ScreeningTerm.Category.FALSE_CLAIM)
    ScreeningTerm.objects.filter(language="zh-hans", term="坐牢").delete()

    screening_terms_ensure_shipped()

    assert ScreeningTerm.objects.get(language="zh-hans", term="打死").active is False
    assert ScreeningTerm.objects.get(language="zh-hans", term="骗子").category == ScreeningTerm.Category.FALSE_CLAIM
    assert ScreeningTerm.objects.get(language="zh-hans", term="坐牢").active is True
    assert ScreeningTerm.objects.count() == len(lexicon.default_terms())


@pytest.mark.django_db
def test_a_deactivated_term_no_longer_matches(supervisor):
    term = ScreeningTerm.objects.get(language="zh-hans", term="老赖")
    screening_term_deactivate(term_id=term.pk, actor=supervisor)

    assert text_screen(text="你就是个老赖", source=ScreeningHit.Source.NOTE, block=False) == []
    assert not ScreeningHit.objects.exists()


@pytest.mark.django_db
def test_text_screen_records_a_hit_with_its_terms_categories_and_excerpt(collector, team):
    case = CaseFactory(team=team)

    matches = text_screen(
        text="再不还就通知你单位，你这个老赖", source=ScreeningHit.Source.NOTE, case_id=case.pk, author=collector,
        source_ref="contact:1", block=False,
    )

    assert [m.term for m in matches] == ["通知你单位", "老赖"]
    hit = ScreeningHit.objects.get()
    assert (hit.action, hit.case_id, hit.author, hit.source_ref) == ("flagged", case.pk, collector, "contact:1")
    assert hit.terms == ["通知你单位", "老赖"]
    assert hit.categories == ["disclosure", "abuse"]
    assert hit.excerpt == "再不还就通知你单位，你这个老赖"


@pytest.mark.django_db
def test_a_hit_excerpt_does_not_keep_personal_data():
    text_screen(text="打死你，13812345678 的机主", source=ScreeningHit.Source.NOTE, block=False)
    assert "13812345678" not in ScreeningHit.objects.get().excerpt


@pytest.mark.django_db
def test_clean_text_records_no_hit():
    assert text_screen(text="请您按时还款", source=ScreeningHit.Source.MESSAGE, block=True) == []
    assert not ScreeningHit.objects.exists()


# --- Where screening applies ---------------------------------------------------------------------


def yesterday_at_ten() -> datetime:
    day = timezone.localdate() - timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.django_db
def test_a_flagged_note_is_stored_and_its_hit_recorded(collector, team):
    case = CaseFactory(team=team)

    contact = contact_record(
        case_id=case.pk, channel="phone", outcome="refused", actor=collector, at=yesterday_at_ten(),
        notes="客户拒绝还款，我说再不还就通知你单位",
    )

    assert Contact.objects.get(pk=contact.pk).notes == "客户拒绝还款，我说再不还就通知你单位"
    hit = ScreeningHit.objects.get()
    assert (hit.source, hit.action, hit.source_ref) == ("note", "flagged", f"contact:{contact.pk}")
    assert hit.author == collector and hit.case_id == case.pk


@pytest.mark.django_db
def test_a_clean_note_records_no_hit(collector, team):
    case = CaseFactory(team=team)
    contact_record(
        case_id=case.pk, channel="phone", outcome="promise_to_pay", actor=collector, at=yesterday_at_ten(),
        notes="客户承诺月底前还款3000元",
    )
    assert not ScreeningHit.objects.exists()


def queue_text(case, actor, text):
    return message_queue(case_id=case.pk, channel="sms", text=text, idempotency_key=uuid.uuid4().hex, actor=actor)


@pytest.mark.django_db
def test_a_blocked_message_raises_screening_blocked_naming_the_terms(collector, team):
    case = CaseFactory(team=team)
    with pytest.raises(ScreeningBlocked) as refused:
        queue_text(case, collector, "三天内不还款，我们将通知你家人并上报公安")
    assert isinstance(refused.value, DomainError)
    assert refused.value.code == "screening_blocked"
    assert refused.value.details["terms"] == ["通知你家人", "公安"]
    assert "通知你家人" in refused.value.message


@pytest.mark.django_db
def test_a_blocked_message_queues_nothing(collector, team):
    case = CaseFactory(team=team)
    with pytest.raises(ScreeningBlocked):
        queue_text(case, collector, "You will be ARRESTED tomorrow")
    assert not OutboundMessage.objects.exists()
    assert not AuditEvent.objects.filter(action="message.queue").exists()


@pytest.mark.django_db
def test_a_blocked_message_records_its_hit(collector, team):
    case = CaseFactory(team=team)
    with pytest.raises(ScreeningBlocked):
        queue_text(case, collector, "逮 捕令已下达")
    hit = ScreeningHit.objects.get()
    assert (hit.source, hit.action, hit.terms, hit.author) == ("message", "blocked", ["逮捕"], collector)
    assert AuditEvent.objects.filter(action="screening.blocked", case_id=case.pk).exists()


@pytest.mark.django_db
def test_a_clean_message_is_queued(collector, team):
    case = CaseFactory(team=team)
    message = queue_text(case, collector, "您的账户已逾期，我们可以为您办理分期，请致电协商。")
    assert message.status == OutboundMessage.Status.QUEUED
    assert not ScreeningHit.objects.exists()


# --- The lexicon page ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["supervisor", "compliance_officer", "admin_user_"])
def test_the_roles_that_edit_the_lexicon_add_terms_and_the_addition_is_audited(role, as_user, request):
    user = request.getfixturevalue(role)
    response = as_user(user).post(
        ADD, {"language": "zh-hans", "category": "threat", "term": " 卸你胳膊 "}
    )

    assert response.status_code == 302
    term = ScreeningTerm.objects.get(term="卸你胳膊")
    assert term.active and term.created_by == user
    event = AuditEvent.objects.get(action="screening_term.add")
    assert event.actor == user and event.changes == {"language": "zh-hans", "category": "threat", "term": "卸你胳膊"}


@pytest.mark.django_db
def test_deactivating_a_term_is_audited(as_user, compliance_officer):
    term = ScreeningTerm.objects.get(language="en", term="deadbeat")

    response = as_user(compliance_officer).post(reverse("compliance:screening-term-deactivate", args=[term.pk]))

    assert response.status_code == 302
    term.refresh_from_db()
    assert term.active is False
    event = AuditEvent.objects.get(action="screening_term.deactivate")
    assert event.actor == compliance_officer and event.target_id == str(term.pk)


@pytest.mark.django_db
def test_adding_an_inactive_term_again_makes_it_active(as_user, supervisor):
    ScreeningTerm.objects.filter(language="en", term="liar").update(active=False)
    as_user(supervisor).post(ADD, {"language": "en", "category": "abuse", "term": "Liar"})
    assert ScreeningTerm.objects.get(language="en", term="liar").active is True
    assert AuditEvent.objects.filter(action="screening_term.activate").exists()


@pytest.mark.django_db
def test_adding_a_term_already_on_the_list_is_refused(as_user, supervisor):
    response = as_user(supervisor).post(
        ADD, {"language": "zh-hans", "category": "abuse", "term": "老赖"}
    )
    assert response.status_code == 409
    assert "already on the list" in response.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="screening_term.").exists()


@pytest.mark.django_db
def test_a_single_letter_english_term_is_refused(as_user, supervisor):
    response = as_user(supervisor).post(
        ADD, {"language": "en", "category": "abuse", "term": "a"}
    )
    assert response.status_code == 400
    assert not ScreeningTerm.objects.filter(term="a").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["collector", "legal_user"])
def test_collectors_and_legal_may_not_read_or_edit_the_lexicon(role, as_user, request):
    client = as_user(request.getfixturevalue(role))
    term = ScreeningTerm.objects.get(language="en", term="police")
    responses = [
        client.get(TERMS),
        client.get(HITS),
        client.post(ADD, {"language": "en", "category": "abuse", "term": "xx"}),
        client.post(reverse("compliance:screening-term-deactivate", args=[term.pk])),
    ]
    assert [response.status_code for response in responses] == [403] * 4
    assert ScreeningTerm.objects.get(pk=term.pk).active is True
    assert not ScreeningTerm.objects.filter(term="xx").exists()


# --- The hits page -------------------------------------------------------------------------------


def hit(*, author=None, case=None, text="你这个老赖", action="flagged", source="note"):
    text_screen(text=text, source=source, case_id=case.pk if case else None, author=author, block=action == "blocked")
    return ScreeningHit.objects.order_by("-pk").first()


def listed(response) -> set[int]:
    return {row.pk for row in response.context["page"].object_list}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, wanted",
    [
        ({"author": "collector"}, "mine"),
        ({"category": "threat"}, "threat"),
        ({"action": "blocked"}, "blocked"),
        ({"reviewed": "no"}, "all"),
    ],
    ids=["author", "category", "action", "not reviewed"],
)
def test_the_hits_list_filters_by_author_category_and_action(
    params, wanted, as_user, compliance_officer, collector, team
):
    other = UserFactory(username="other", team=team)
    hits = {
        "mine": hit(author=collector, text="老赖"),
        "threat": hit(author=other, text="打死你"),
        "blocked": hit(author=other, text="你是骗子", action="blocked", source="message"),
    }
    response = as_user(compliance_officer).get(HITS, params)
    assert response.status_code == 200
    expected = {h.pk for h in hits.values()} if wanted == "all" else {hits[wanted].pk}
    assert listed(response) == expected


@pytest.mark.django_db
def test_marking_a_hit_reviewed_records_who_and_is_audited(as_user, supervisor, collector, team):
    flagged = hit(author=collector, case=CaseFactory(team=team))

    response = as_user(supervisor).post(
        reverse("compliance:screening-hit-review", args=[flagged.pk]), {"note": "已与催收员面谈"}
    )

    assert response.status_code == 302
    flagged.refresh_from_db()
    assert flagged.reviewed_by == supervisor and flagged.reviewed_at is not None
    event = AuditEvent.objects.get(action="screening.review")
    assert event.reason == "已与催收员面谈" and event.actor == supervisor


@pytest.mark.django_db
def test_a_supervisor_sees_only_the_hits_of_the_teams_they_lead(as_user, supervisor, collector, team):
    ours = hit(author=collector, case=CaseFactory(team=team))
    stranger_team = TeamFactory(name="其他组")
    theirs = hit(author=UserFactory(username="stranger", team=stranger_team), case=CaseFactory(team=stranger_team))

    response = as_user(supervisor).get(HITS)

    assert listed(response) == {ours.pk}
    review = as_user(supervisor).post(reverse("compliance:screening-hit-review", args=[theirs.pk]))
    assert review.status_code == 404


@pytest.mark.django_db
def test_the_hits_list_runs_the_same_number_of_queries_for_5_and_50_hits(as_user, compliance_officer, team):
    client = as_user(compliance_officer)
    authors = [UserFactory(username=f"author{n}", team=team) for n in range(5)]

    def queries_for(count: int) -> int:
        ScreeningHit.objects.all().delete()
        for n in range(count):
            hit(author=authors[n % 5], case=CaseFactory(team=team))
        client.get(HITS)  # warm the session
        with CaptureQueriesContext(connection) as queries:
            assert client.get(HITS).status_code == 200
        return len(queries)

    assert queries_for(5) == queries_for(50)


@pytest.mark.django_db
def test_the_lexicon_page_runs_a_constant_number_of_queries(as_user, supervisor):
    client = as_user(supervisor)
    client.get(TERMS)
    with CaptureQueriesContext(connection) as few:
        client.get(TERMS, {"language": "en"})
    with CaptureQueriesContext(connection) as many:
        client.get(TERMS)
    assert len(few) == len(many)
