"""Shuangsui sampling service."""
