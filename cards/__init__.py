"""Jinja templates for mmweak dataset cards (shipped as package data: ``mmweak.cards``)."""
