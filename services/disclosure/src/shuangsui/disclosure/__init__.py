"""Shuangsui disclosure service."""
