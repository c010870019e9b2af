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


@transaction.atomic
def user_make_admin(*, email: str, full_name: str = "") -> tuple[User, bool]:
    """The person behind `email` as an administrator of the installation; True if new."""
    from allauth.account.models import EmailAddress

    email = User.objects.normalize_email(email.strip()).lower()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User(email=email, full_name=full_name.strip())
        user.set_unusable_password()
    elif full_name.strip():
        user.full_name = full_name.strip()
    user.is_staff = True
    user.is_superuser = True
    user.is_active = True
    user.full_clean()
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user, created
