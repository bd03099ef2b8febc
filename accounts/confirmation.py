"""The link of the confirmation mail confirms on one click, safely.

allauth confirms an address by a POST from its confirmation page (the link lands
on a "Confirmer" button), because mail scanners and link previewers open links:
with ACCOUNT_CONFIRM_EMAIL_ON_GET they would confirm, for anyone, an address that
its owner never meant to give (someone signs up with another person's address;
that person's mail gateway opens the link; the stranger's account is confirmed).

Chatsite keeps the button for them and drops it for the person who asked: the
session that signed up (or asked for a new link) records the address, and the link
opened in that same browser confirms at once. A scanner has no such session; a
person who opens the mail on another device gets the button (docs/accounts.md).
"""

from allauth.account.views import ConfirmEmailView
from django.http import Http404

SESSION_KEY = "chatsite_confirmation_asked"
REMEMBERED = 5  # addresses: enough for typo fixes and resends, bounded


def remember_confirmation_asked(request, address: str) -> None:
    asked = [a for a in request.session.get(SESSION_KEY, []) if a != address.lower()]
    request.session[SESSION_KEY] = [*asked, address.lower()][-REMEMBERED:]


class ConfirmEmailOnClickView(ConfirmEmailView):
    """allauth's view; a GET from the browser that asked confirms (a POST in effect)."""

    def get(self, *args, **kwargs):
        try:
            confirmation = self.get_object()
        except Http404:
            return super().get(*args, **kwargs)
        address = confirmation.email_address.email.lower()
        if address in self.request.session.get(SESSION_KEY, []):
            return self.post(*args, **kwargs)
        return super().get(*args, **kwargs)
