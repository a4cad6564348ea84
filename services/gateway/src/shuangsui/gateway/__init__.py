"""Shuangsui gateway: routing, auth, merged OpenAPI."""
