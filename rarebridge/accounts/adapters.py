from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # People join by invitation (staff) or through a study's referral form, never by an
        # open sign-up page: every account belongs to an organisation from its first minute.
        return False

    def add_message(
        self,
        request,
        level,
        message_template=None,
        message_context=None,
        extra_tags="",
        message=None,
    ):
        # "Signed in as …" would appear in the language of the sign-in page, not the person's
        # own; the home page greets them by name instead.
        if message_template in (
            "account/messages/logged_in.txt",
            "account/messages/logged_out.txt",
        ):
            return
        if message_template == "account/messages/email_confirmed.txt":
            messages.success(request, _("Thank you: your e-mail address is confirmed."))
            return
        super().add_message(request, level, message_template, message_context, extra_tags, message)
