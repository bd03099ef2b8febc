"""What templates/base.html asks of moderation: whether "Mes décisions" belongs in
the main navigation (issue 18: not for a new member with nothing there)."""

from moderation.models import Report, StatementOfReasons


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def has_decisions() -> bool:
        # A callable: the template calls it only where it asks (one query, members only).
        return (
            StatementOfReasons.objects.disclosed().filter(user=user).exists()
            or Report.objects.filter(reporter=user).exists()
        )

    return {"nav_has_decisions": has_decisions}
