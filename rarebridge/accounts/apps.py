from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rarebridge.accounts"
    label = "accounts"

    def ready(self) -> None:
        from rarebridge.accounts import signals  # noqa: F401  (connects the receivers)
