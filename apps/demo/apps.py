from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo: users, knowledge, conversations and a QA setup loaded through the product's services
    (``manage.py load_demo``). The top floor: it may import any app, and no product app imports it."""

    name = "apps.demo"
    label = "demo"
