from django.urls import re_path

from bench.baseline_channels.consumers import ChatConsumer

websocket_urlpatterns = [re_path(r"^ws/rooms/(?P<slug>[-a-zA-Z0-9_]+)/$", ChatConsumer.as_asgi())]
# No HTTP views: Django only needs a URLconf to exist.
urlpatterns: list = []
