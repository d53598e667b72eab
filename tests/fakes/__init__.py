"""Test doubles that speak real protocols (e.g. a fake OpenAI-compatible HTTP server)."""
