"""What the apps above `groups` may hear about a group's members.

`groups` cannot import the apps that sit on it, so a member's removal is
announced: `meetings` withdraws the person from meetings not yet held, and
`topics` answers `member_removal_notes` with what stays behind (drafts).
Receivers connect in their app's `AppConfig.ready()`.
"""

from django.dispatch import Signal

# Sent inside the removal's transaction, after the memberships are gone.
# Keyword arguments: group, user.
member_removed = Signal()

# Asked before and after a removal; each receiver returns a list of sentences
# (already translated) telling the moderator what stays. Keyword arguments: group, user.
member_removal_notes = Signal()


def removal_notes(*, group, user) -> list[str]:
    return [
        note
        for _receiver, notes in member_removal_notes.send(sender=None, group=group, user=user)
        for note in notes or []
    ]
