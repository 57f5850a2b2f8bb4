"""Personal data in chat messages is masked before storage; order numbers, dates and prices are not."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.core.masking import Masker, MaskResult, masker_from_settings

ID_CARD = "11010519491231002X"  # valid check character, born 1949-12-31
BANK_CARD = "6222020200001234562"  # 19 digits, passes Luhn
BANK_CARD_16 = "6225880123456783"


@pytest.fixture
def masker() -> Masker:
    return Masker()


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我的手机13812345678，谢谢", "我的手机138****5678，谢谢"),
        ("电话 138 1234 5678", "电话 138****5678"),
        ("电话138-1234-5678。", "电话138****5678。"),
        ("+8613812345678", "+86138****5678"),
        ("+86 13912345678", "+86 139****5678"),
        ("联系0086-15012345678", "联系0086-150****5678"),
        ("8619912345678", "86199****5678"),
        ("+86 138-1234-5678", "+86 138****5678"),
    ],
)
def test_mobile_numbers_keep_the_first_three_and_last_four_digits(masker, text, masked):
    result = masker.mask(text)
    assert result.text == masked
    assert result.counts == {"mobile": 1}


def test_an_id_card_keeps_its_first_and_last_four_characters(masker):
    result = masker.mask(f"身份证{ID_CARD}，请核实")
    assert result.text == "身份证1101**********002X，请核实"
    assert result.counts == {"id_card": 1}


def test_an_id_card_with_a_lowercase_x_is_an_id_card(masker):
    result = masker.mask("身份证号11010519491231002x")
    assert result.text == "身份证号1101**********002x"
    assert result.counts == {"id_card": 1}


def test_an_id_card_ending_in_a_digit_is_masked_to_eighteen_characters(masker):
    result = masker.mask("440304199001011233")
    assert result.text == "4403**********1233"
    assert len(result.text) == 18
    assert result.counts == {"id_card": 1}


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"卡号{BANK_CARD}", "卡号***************4562"),
        ("卡号 6222 0202 0000 1234 562 ", "卡号 **** **** **** ***4 562 "),
        ("卡号6222-0202-0000-1234-562", "卡号****-****-****-***4-562"),
        (f"尾号{BANK_CARD_16}的卡", "尾号************6783的卡"),
    ],
)
def test_bank_cards_keep_only_their_last_four_digits_and_their_separators(masker, text, masked):
    result = masker.mask(text)
    assert result.text == masked
    assert result.counts == {"bank_card": 1}


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("邮箱zhang.san+cs@example.com.cn，谢谢", "邮箱z***@example.com.cn，谢谢"),
        ("发到 li@qq.com 吧", "发到 l***@qq.com 吧"),
        # A phone number used as a mailbox name is one e-mail address, not a phone plus a domain.
        ("13812345678@163.com", "1***@163.com"),
    ],
)
def test_email_addresses_keep_their_first_character_and_domain(masker, text, masked):
    result = masker.mask(text)
    assert result.text == masked
    assert result.counts == {"email": 1}


@pytest.mark.parametrize(
    "text",
    [
        "订单号20261101123已发货",  # 11 digits, but no mobile starts with 2
        "订单号202611011380012345678",  # a phone-like run inside a longer number
        "单号12345678901234",
        "订单 1381234567890 已签收",  # 13 digits starting like a phone
        "编号110105194912310021",  # 18 digits: wrong ID check digit, fails Luhn too
        "编号123456789012345678",
        "卡号1234567890123456",  # 16 digits failing Luhn
        "卡号 1234 5678 9012 3456",
        "预约 2026-11-23 10:00 上门",
        "价格¥1380.00，优惠后¥138.00",
        "顺丰单号SF1234567890123",
        "@客服 在吗",
        "我的邮箱是 zhang@ 还没写完",
        "",
    ],
)
def test_order_numbers_dates_prices_and_tracking_numbers_are_left_alone(masker, text):
    result = masker.mask(text)
    assert result.text == text
    assert result.counts == {}
    assert result.total == 0


def test_a_bank_card_inside_a_longer_digit_run_is_left_alone(masker):
    assert masker.mask(f"{BANK_CARD}9").counts == {}
    assert masker.mask(f"9{BANK_CARD_16}").counts == {}


def test_an_eighteen_digit_number_failing_the_id_checksum_may_still_be_a_bank_card(masker):
    result = masker.mask("卡号622848000000001237")  # passes Luhn, not a valid ID number
    assert result.text == "卡号**************1237"
    assert result.counts == {"bank_card": 1}


def test_full_width_digits_are_recognised_and_the_masked_value_is_written_in_ascii(masker):
    result = masker.mask("手机１３８１２３４５６７８，身份证１１０１０５１９４９１２３１００２Ｘ，订单１２３")
    assert result.text == "手机138****5678，身份证1101**********002X，订单１２３"
    assert result.counts == {"mobile": 1, "id_card": 1}


def test_several_kinds_in_one_message_are_each_counted(masker):
    text = (
        f"我的手机13812345678，身份证{ID_CARD}，卡号{BANK_CARD}，备用手机139-8765-4321，邮箱zhang.san+cs@example.com.cn"
    )
    result = masker.mask(text)
    assert result.text == (
        "我的手机138****5678，身份证1101**********002X，卡号***************4562，"
        "备用手机139****4321，邮箱z***@example.com.cn"
    )
    assert result.counts == {"mobile": 2, "id_card": 1, "bank_card": 1, "email": 1}
    assert result.total == 5


@pytest.mark.parametrize(
    "text",
    [
        "我的手机13812345678，身份证11010519491231002X",
        f"卡号 6222 0202 0000 1234 562，邮箱zhang.san+cs@example.com.cn，{BANK_CARD_16}",
        "+86 138-1234-5678 / 0086 13912345678",
        "13812345678@163.com",
        "手机１３８１２３４５６７８",
    ],
)
def test_masking_masked_text_again_changes_nothing(masker, text):
    once = masker.mask(text)
    assert once.total > 0
    twice = masker.mask(once.text)
    assert twice.text == once.text
    assert twice.total == 0


def test_text_with_nothing_to_mask_is_returned_as_is(masker):
    text = "亲，您的订单已经发货了，请注意查收哦～"
    result = masker.mask(text)
    assert result == MaskResult(text, {})
    assert result.text is text


def test_extra_patterns_are_replaced_by_stars_and_counted_under_their_name():
    masker = Masker({"member_no": r"VIP\d{6}", "plate": r"(?i)[京沪粤][a-z][0-9a-z]{5}"})
    result = masker.mask("会员VIP123456，车牌沪a12345，手机13812345678")
    assert result.text == "会员*********，车牌*******，手机138****5678"
    assert result.counts == {"member_no": 1, "plate": 1, "mobile": 1}


def test_extra_patterns_are_matched_on_full_width_text_too():
    result = Masker({"member_no": r"VIP\d{6}"}).mask("会员ＶＩＰ１２３４５６")
    assert result.text == "会员*********"
    assert result.counts == {"member_no": 1}


def test_an_extra_pattern_overlapping_a_built_in_kind_leaves_it_to_the_built_in_kind():
    result = Masker({"contact": r"电话\d+"}).mask("电话13812345678")
    assert result.text == "电话138****5678"
    assert result.counts == {"mobile": 1}


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        ({"broken_ref": "(abc"}, "broken_ref"),
        ({"everything": r"\d*"}, "everything"),
        ({"twice": r"(a)\1"}, "twice"),  # no backreferences on the linear-time engine
        ({"ahead": r"VIP(?=\d)"}, "ahead"),  # nor lookaround
        ({"too_long": "x" * 2001}, "too_long"),
    ],
)
def test_an_unusable_extra_pattern_fails_loudly_naming_it(patterns, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        Masker(patterns)


def test_an_extra_pattern_that_would_backtrack_forever_runs_in_linear_time():
    # On Python's re, (a+)+$ against 100,000 "a"s and a "b" never returns; on RE2 it is one pass.
    result = Masker({"runaway": r"(a+)+$"}).mask("a" * 100_000 + "b")
    assert result.counts == {}


def test_the_masker_from_settings_uses_the_extra_patterns_and_follows_changes(settings):
    settings.PII_EXTRA_PATTERNS = {"member_no": r"VIP\d{6}"}
    masker = masker_from_settings()
    assert masker is masker_from_settings()
    assert masker.mask("VIP123456").counts == {"member_no": 1}

    settings.PII_EXTRA_PATTERNS = {}
    assert masker_from_settings().mask("VIP123456").counts == {}
