"""The comparison engine: a layer's backward against SymPy and against finite differences."""
