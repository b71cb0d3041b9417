from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rarebridge.accounts"
    label = "accounts"
