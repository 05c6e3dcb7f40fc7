"""The HTTP service: app factory, routes, schemas, settings and the static web page."""
