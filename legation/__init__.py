"""Legation: a self-hosted platform for digital diplomacy."""

__version__ = "0.1.0"
