"""Numeric computational graphs: the note's worked examples, targets, forward and backward.

The model (:mod:`~symgrad.graph.model`) returns a :class:`~symgrad.reports.Backprop`
report that every renderer draws (text, DOT, SVG, JSON); nothing here prints.
"""
