"""The naive Channels chat, as the Channels tutorial writes it: the baseline to beat.

    BENCH_LAYER=memory|redis|pubsub BENCH_REDIS_URL=redis://127.0.0.1:6379/15 \\
    DJANGO_SETTINGS_MODULE=bench.baseline_channels.settings \\
    daphne -b 127.0.0.1 -p 8766 bench.baseline_channels.asgi:application
"""
