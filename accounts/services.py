from django.db import transaction

from accounts.models import User, new_calendar_token


@transaction.atomic
def user_update_profile(*, user: User, full_name: str, language: str) -> User:
    user.full_name = full_name.strip()
    user.language = language
    user.full_clean()
    user.save(update_fields=["full_name", "language"])
    return user


@transaction.atomic
def user_set_language(*, user: User, language: str) -> User:
    user.language = language
    user.full_clean()
    user.save(update_fields=["language"])
    return user


@transaction.atomic
def user_reset_calendar_token(*, user: User) -> User:
    """Give the person a new secret feed address; the old one stops working."""
    user.calendar_token = new_calendar_token()
    user.save(update_fields=["calendar_token"])
    return user
