"""Expressions a user types: parsed safely (never ``eval``) into SymPy.

Importing this package imports nothing heavy; :mod:`~symgrad.expressions.parse` and
:mod:`~symgrad.expressions.functions` import SymPy.
"""
