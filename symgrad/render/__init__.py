"""Renderers: they draw report objects (terminal, JSON, LaTeX) and never compute."""
