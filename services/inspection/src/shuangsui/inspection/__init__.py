"""Shuangsui inspection service."""
