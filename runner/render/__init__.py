"""Renderers: tables, relative times, JSON. They format what they are given and decide nothing."""
