"""The demo users (demo/users.json): one per role, with a password anyone can read. Never in production."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.accounts.roles import ALL_ROLES
from apps.demo.files import read_json


@dataclass(frozen=True)
class DemoUser:
    """A demo login: who signs in with which password, in which role."""

    username: str
    password: str
    role: str


def demo_password(username: str) -> str:
    """The demo password of a demo username (``editor`` → ``editor-demo-2026``)."""
    return f"{username}-demo-2026"


def load_demo_users() -> list[DemoUser]:
    """Create the demo users, or bring them back to the demo's name, password and role; return their
    logins. A user already as the demo wants it is not saved again."""
    User = get_user_model()
    logins = []
    for data in read_json("users.json"):
        if data["role"] not in ALL_ROLES:
            raise ValueError(f"demo/users.json: {data['username']} has an unknown role {data['role']!r}")
        login = DemoUser(username=data["username"], password=demo_password(data["username"]), role=data["role"])
        user, _created = User.objects.get_or_create(username=login.username)
        changed = user.first_name != data["name"] or not user.is_staff or not user.check_password(login.password)
        if changed:
            user.first_name = data["name"]
            user.is_staff = True  # every role works in the admin; what each may do comes from its group
            user.set_password(login.password)
            user.save()
        if list(user.groups.values_list("name", flat=True)) != [login.role]:
            user.groups.set([Group.objects.get(name=login.role)])
        logins.append(login)
    return logins
