from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # People join by invitation (staff) or through a study's referral form, never by an
        # open sign-up page: every account belongs to an organisation from its first minute.
        return False
