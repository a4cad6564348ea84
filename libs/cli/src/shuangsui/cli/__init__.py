"""The shuangsui command."""
