"""Shuangsui planning service."""
