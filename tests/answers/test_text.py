"""Chinese text preparation: the same on both sides of the index."""

from apps.answers.text import Vocabulary, normalize


def test_normalize_folds_script_width_case_and_punctuation():
    assert normalize("退款多久會到帳？ＡＰＰ裡的軟體") == "退款多久会到账 app里的软件"


def test_synonyms_map_to_the_canonical_term_without_rewriting_it():
    vocabulary = Vocabulary(synonyms={"尿不湿": "纸尿裤", "折扣券": "优惠券"})
    assert vocabulary.canonical("尿不湿和纸尿裤") == "纸尿裤和纸尿裤"
    assert vocabulary.canonical("优惠券和折扣券") == "优惠券和优惠券"


def test_tokens_keep_content_words_and_bigrams_but_drop_function_words():
    tokens = Vocabulary(terms={"价保"}).tokens("请问价保怎么申请呢？")
    assert "价保" in tokens and "申请" in tokens
    assert not {"请问", "怎么", "呢"} & set(tokens)


def test_dictionary_terms_stay_whole():
    assert "七天无理由" in Vocabulary(terms={"七天无理由"}).tokens("七天无理由退货怎么操作")
