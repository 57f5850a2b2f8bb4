from django.db import migrations

DEFAULT_TOPICS = {
    "资金安全": ["资金安全", "被盗", "盗刷", "不明扣款", "被骗", "诈骗", "骗子", "冒充客服", "钱被转走", "账户冻结"],
    "产品缺陷": ["产品缺陷", "质量缺陷", "安全隐患", "召回", "吃出问题", "过敏反应", "中毒", "异物"],
    "隐私泄露": ["隐私泄露", "信息泄露", "个人信息被", "泄露了我的", "骚扰电话", "倒卖信息"],
}


def create_topics(apps, schema_editor):
    HumanOnlyTopic = apps.get_model("answers", "HumanOnlyTopic")
    for name, keywords in DEFAULT_TOPICS.items():
        HumanOnlyTopic.objects.get_or_create(name=name, defaults={"keywords": keywords})


class Migration(migrations.Migration):
    """The human-only topics the industry agrees on (人工专属通道); editors extend the list in the admin."""

    dependencies = [("answers", "0001_initial")]
    operations = [migrations.RunPython(create_topics, migrations.RunPython.noop)]
