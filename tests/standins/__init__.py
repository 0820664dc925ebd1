"""Loopback stand-ins for the chat platforms, speaking their wire protocols."""
