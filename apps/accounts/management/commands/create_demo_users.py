from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from apps.accounts import roles

DEMO_USERS = [
    ("editor", roles.KNOWLEDGE_EDITOR, "王编辑"),
    ("approver", roles.KNOWLEDGE_APPROVER, "李审核"),
    ("reviewer", roles.QA_REVIEWER, "张质检"),
    ("qalead", roles.QA_LEAD, "陈主管"),
    ("agent", roles.AGENT, "刘坐席"),
    ("admin", roles.ADMINISTRATOR, "系统管理员"),
]


class Command(BaseCommand):
    help = "Create one demo user per role (idempotent) and print their credentials. Never use in production."

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        self.stdout.write(_("Demo users (username / password / role):"))
        for username, role, name in DEMO_USERS:
            password = f"{username}-demo-2026"
            user, _created = User.objects.get_or_create(username=username)
            user.first_name = name
            user.is_staff = True  # every role works in the admin; what each may do comes from its group
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            self.stdout.write(f"  {username:<9} {password:<22} {role}")
