"""The Channels peer's ASGI application, as in the Channels tutorial (no auth stack: the
benchmark's sockets carry no Django session, and Comptoir's cost of reading its own
cookie is counted against Comptoir)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.channels_site.settings")

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.urls import path  # noqa: E402

django_asgi_app = get_asgi_application()

from bench.peers.channels_site.consumers import TopicsConsumer  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": URLRouter([path("ws", TopicsConsumer.as_asgi())]),
})
