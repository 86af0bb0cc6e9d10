"""Django settings for the Channels peer: the tutorial's, trimmed to what a socket needs."""

import os

SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["daphne", "channels"]
ROOT_URLCONF = "bench.peers.channels_site.urls"
ASGI_APPLICATION = "bench.peers.channels_site.asgi.application"
USE_TZ = True
DATABASES: dict[str, dict[str, str]] = {}
_host, _port = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").split("//")[1].split("/")[0].split(":")
# CHANNEL_LAYER=pubsub: channels-redis's pub/sub layer, which resubscribes after a Redis
# restart where the core layer's consumers stay deaf (the bench offers both).
_LAYER = (
    "channels_redis.pubsub.RedisPubSubChannelLayer"
    if os.environ.get("CHANNEL_LAYER") == "pubsub"
    else "channels_redis.core.RedisChannelLayer"
)
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": _LAYER,
        "CONFIG": {"hosts": [(_host, int(_port))]},
    },
}
