"""Small pieces shared by every app's models."""

import secrets

from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

# Lower-case letters and digits without the look-alikes 0/o and 1/l/i.
_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def new_code(length: int = 10) -> str:
    """An opaque, URL-safe identifier for use in addresses instead of a row id."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class BoundedTextField(models.TextField):
    """A TextField whose max_length holds in `full_clean()` too, not only in forms."""

    @cached_property
    def validators(self):
        validators = list(super().validators)
        if self.max_length is not None:
            validators.append(MaxLengthValidator(self.max_length))
        return validators
