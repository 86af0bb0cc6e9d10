"""ASGI plumbing, no domain. Importing it registers the `{…:id}` path type every route uses."""

import web.convertors  # noqa: F401
