"""GET /metrics: the Prometheus text format, for OTP-verified staff only (core/staff.py)."""

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from chatsite.metrics_collectors import exposition
from core.jsonapi import error, refusal_response
from core.refusals import RefusalCode
from core.staff import report_staff_refusal, staff_refusal


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = error(405, RefusalCode.METHOD_NOT_ALLOWED, _("Méthode non autorisée."))
        response["Allow"] = "GET, HEAD"
        return response
    refusal = staff_refusal(request.user)
    if refusal is not None:
        report_staff_refusal(request, refusal, surface=request.path)
        return refusal_response(refusal)
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
