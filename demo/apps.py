from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo organisation for `make run`: sits on every other app, nothing imports it."""

    name = "demo"
    verbose_name = "Demo data"
