"""GET /metrics: the Prometheus text format, for OTP-verified staff only."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from chatsite.metrics_collectors import exposition


def _refusal(request: HttpRequest) -> JsonResponse | None:
    user = request.user
    if not user.is_authenticated:
        return JsonResponse(
            {"error": "not_authenticated", "detail": _("Connectez-vous.")}, status=401
        )
    # Fail closed if the OTP middleware did not run: no is_verified, no metrics.
    is_verified = getattr(user, "is_verified", None)
    if not user.is_active or not user.is_staff or is_verified is None or not is_verified():
        return JsonResponse(
            {
                "error": "forbidden",
                "detail": _("Réservé à l'équipe, double authentification validée."),
            },
            status=403,
        )
    return None


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse(
            {"error": "method_not_allowed", "detail": _("Méthode non autorisée.")}, status=405
        )
        response["Allow"] = "GET, HEAD"
        return response
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
