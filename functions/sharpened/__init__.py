"""SHARPENED backend: the Python side of a Supabase-native fitness-and-nutrition coach."""

__version__ = "0.1.0"
