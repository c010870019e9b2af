from django.http import HttpResponse
from django.views.decorators.cache import never_cache

from accounts.middleware import without_user_language


@without_user_language
@never_cache
def healthz(request):
    """Liveness for load balancers and the benchmarks' floor: no database, no session."""
    return HttpResponse("ok", content_type="text/plain")
