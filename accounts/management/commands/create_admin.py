"""Make someone an administrator of the installation: the first one, or another later.

    python manage.py create_admin karin.aberg@example.se --name "Karin Åberg"

Creates the person if needed (without a password: they sign in with an e-mailed
code or through the organisation's sign-in) or promotes an existing one.
Administrators create groups and may use `/admin/`. Running it again changes nothing.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import user_make_admin


class Command(BaseCommand):
    help = "Create an administrator, or make an existing person one."

    def add_arguments(self, parser):
        parser.add_argument("email", help="the person's e-mail address (their sign-in)")
        parser.add_argument("--name", default="", help="full name, e.g. 'Karin Åberg'")

    def handle(self, *args, email: str, name: str, **options):
        try:
            user, created = user_make_admin(email=email, full_name=name)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        verb = "Created" if created else "Made"
        self.stdout.write(f"{verb} {user.email} an administrator.")
        self.stdout.write(
            "They sign in at /accounts/login/ with an e-mailed code or the organisation's "
            "sign-in; `manage.py changepassword` gives them a password if they need one."
        )
