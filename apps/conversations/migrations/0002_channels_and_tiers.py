from django.db import migrations

CHANNELS = [
    ("wechat", "微信客服", "wechat_kf"),
    ("wecom", "企业微信", "wecom"),
    ("app", "App 在线客服", "app"),
    ("web", "网页在线客服", "web"),
    ("phone", "电话（转写）", "phone"),
]
TIERS = [
    # name, first response target (s), urgency, tags that select it, default
    ("紧急", 120, 10, ["紧急", "投诉", "资金安全"], False),
    ("普通", 300, 50, [], True),
]


def seed(apps, schema_editor):
    Channel = apps.get_model("conversations", "Channel")
    SlaTier = apps.get_model("conversations", "SlaTier")
    for code, name, kind in CHANNELS:
        Channel.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
    for name, seconds, urgency, tags, default in TIERS:
        SlaTier.objects.get_or_create(
            name=name,
            defaults={"first_response_seconds": seconds, "urgency": urgency, "match_tags": tags, "is_default": default},
        )


class Migration(migrations.Migration):
    dependencies = [("conversations", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
