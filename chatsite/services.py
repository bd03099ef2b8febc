"""Configuration of the Redis-backed services, shared by settings and tests.

Plain functions returning settings dictionaries: no Django import, so that
settings.py can call them.
"""


def redis_channel_layer(url: str, prefix: str = "chatsite") -> dict:
    """The channel layer for several processes sharing one Redis.

    The measured traps (docs/performance.md): RedisChannelLayer's per-process
    capacity of 100 silently drops group messages under load, and redis-py's
    5 s socket_timeout and bounded pool kill busy consumers (channels_redis
    #422). The pub/sub layer keeps no per-process queue in Redis and lost
    nothing in the same runs; no socket timeout keeps a slow moment from
    killing the subscriber, and the keepalive and health check notice a dead
    server instead.
    """
    return {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": url,
                    "socket_timeout": None,
                    "socket_connect_timeout": 5,
                    "socket_keepalive": True,
                    "health_check_interval": 30,
                    "retry_on_timeout": True,
                    "max_connections": 1000,
                }
            ],
            "prefix": prefix,
        },
    }


def redis_cache(url: str, prefix: str = "chatsite") -> dict:
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": prefix,
        "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
    }
