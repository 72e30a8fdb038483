"""The numeric side: derivatives by finite differences of a layer's NumPy forward."""
