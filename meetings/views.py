from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from meetings.selectors import meeting_get_for_user, meeting_page


@login_required
def meeting_detail(request, code: str):
    meeting = meeting_get_for_user(user=request.user, code=code)
    return render(request, "meetings/meeting_detail.html", {"page": meeting_page(meeting=meeting)})
