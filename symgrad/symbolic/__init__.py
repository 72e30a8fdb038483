"""The symbolic side: SymPy descriptions of layers and the derivations SymPy makes from them.

Every module here imports SymPy; nothing outside this package imports it at module level.
"""
