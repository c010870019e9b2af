from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Tvärgrupp is invitation-only: people join through a moderator's invitation."""

    def is_open_for_signup(self, request) -> bool:
        return False
