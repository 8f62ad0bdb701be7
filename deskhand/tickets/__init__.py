"""Tickets: the service that changes them, and the views the adapters render."""
