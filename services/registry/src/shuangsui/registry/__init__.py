"""Shuangsui registry service."""
