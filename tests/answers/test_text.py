"""Chinese text preparation: the same on both sides of the index."""

from apps.answers.text import Vocabulary, normalize_for_retrieval


def test_normalize_folds_script_width_case_and_punctuation():
    assert normalize_for_retrieval("退款多久會到帳？ＡＰＰ裡的軟體") == "退款多久会到账 app里的软件"


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


# --- homophone typos (错别字): customers type with pinyin input methods ---

DOMAIN_WORDS = {"退款", "驳回", "积分", "申请", "充值", "签收", "回退", "微信", "提前"}


def test_homophone_typos_are_corrected_to_words_of_the_knowledge_base():
    vocabulary = Vocabulary(domain_words=DOMAIN_WORDS)
    assert vocabulary.question("我的退宽被剥回了") == "我的退款被驳回了"
    assert vocabulary.question("会员鸡分都能干嘛用") == "会员积分都能干嘛用"
    assert vocabulary.question("余额冲值要在哪个页面") == "余额充值要在哪个页面"


def test_real_words_and_common_characters_are_never_rewritten():
    vocabulary = Vocabulary(domain_words=DOMAIN_WORDS)
    for question in ("退款多久会退到账", "往钱包充钱收手续费吗", "用微信付的钱退到哪里", "刚才提钱说失败了"):
        assert vocabulary.question(question) == question


def test_a_pronunciation_shared_by_two_domain_words_is_left_alone():
    assert Vocabulary(domain_words={"积分"}).question("会员鸡分") == "会员积分"
    vocabulary = Vocabulary(domain_words={"积分", "基分"})  # ji fen, twice
    assert vocabulary.question("会员鸡分") == "会员鸡分"


def test_typos_are_corrected_before_synonyms_and_segmentation():
    vocabulary = Vocabulary(synonyms={"尿不湿": "纸尿裤"}, domain_words={"退款"})
    assert "退款" in vocabulary.tokens(vocabulary.question("尿不湿退宽"))
    assert vocabulary.question("尿不湿退宽") == "纸尿裤退款"
