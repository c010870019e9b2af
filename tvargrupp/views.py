from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from accounts.middleware import without_user_language
from tvargrupp.health import readiness


@without_user_language
@never_cache
def healthz(request):
    """Liveness for load balancers and the benchmarks' floor: no database, no session."""
    return HttpResponse("ok", content_type="text/plain")


@without_user_language
@never_cache
def readyz(request):
    """Readiness: database, Redis, a recent worker heartbeat, the e-mail outbox (JSON)."""
    ok, checks = readiness()
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503
    )
