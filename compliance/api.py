"""GET /api/me/export/: a member's own data as JSON (GDPR Art. 15 and 20)."""

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from compliance.actions import do_export_own_data


@never_cache
@require_GET
def me_export(request: HttpRequest) -> JsonResponse:
    # Any signed-in account, verified or not: access to one's data needs no gate.
    if not request.user.is_authenticated:
        return JsonResponse(
            {
                "error": "not_authenticated",
                "detail": _("Connectez-vous pour exporter vos données."),
            },
            status=401,
        )
    data = do_export_own_data(request.user, actor=request.user)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    filename = f"chatsite-{timezone.now():%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
