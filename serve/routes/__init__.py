"""Thin route modules: each calls the domain and returns schemas."""
