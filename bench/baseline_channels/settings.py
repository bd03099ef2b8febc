"""Just enough Django for the tutorial chat: no database, no sessions, no auth.

`BENCH_LAYER` picks the channel layer with the settings a tutorial reader would
use (channels-redis defaults), so that the traps measured in
docs/performance.md are the ones a naive deployment meets:
- `memory`: InMemoryChannelLayer (one process only);
- `redis`: channels_redis.core.RedisChannelLayer, defaults (capacity 100);
- `pubsub`: channels_redis.pubsub.RedisPubSubChannelLayer, defaults.
"""

import os

from django.core.exceptions import ImproperlyConfigured

SECRET_KEY = os.environ.get("SECRET_KEY") or "bench-baseline-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
DATABASES: dict = {}
USE_TZ = True
ROOT_URLCONF = "bench.baseline_channels.routing"
ASGI_APPLICATION = "bench.baseline_channels.asgi.application"

_layer = os.environ.get("BENCH_LAYER", "memory")
_redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
_prefix = os.environ.get("BENCH_REDIS_PREFIX", "benchbase")
if _layer == "memory":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
elif _layer == "redis":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [_redis_url], "prefix": _prefix},
        }
    }
elif _layer == "pubsub":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [_redis_url], "prefix": _prefix},
        }
    }
else:
    raise ImproperlyConfigured(f"BENCH_LAYER must be memory, redis or pubsub, not {_layer!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # RedisChannelLayer reports "over capacity" drops at INFO: keep them visible.
    "loggers": {"channels_redis": {"level": "INFO"}},
}
