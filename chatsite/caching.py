"""Cache-Control for what is personal: no browser or proxy keeps a copy.

Every /api/ answer (refusals included) and every page under the accounts, the
rooms and the conversations carries `Cache-Control: no-store` (Django's
never_cache headers), and so does any page served to a signed-in user unless its
view chose its own caching (the manifest, the service worker). Static files are
answered earlier, by WhiteNoise, with their own long lifetimes.
"""

from django.utils.cache import add_never_cache_headers

ALWAYS_PRIVATE = ("/api/", "/accounts/", "/rooms/", "/dm/", "/conversations/")


class PrivateResponsesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(ALWAYS_PRIVATE):
            # Forced: a view's own caching never makes these shareable.
            response.headers.pop("Cache-Control", None)
            add_never_cache_headers(response)
        elif "Cache-Control" not in response and _signed_in(request):
            add_never_cache_headers(response)
        return response


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)
