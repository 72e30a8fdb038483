"""The three shapes a layer's SymPy description can take, under one name for type hints."""

from symgrad.symbolic.classes import ClassLossForm
from symgrad.symbolic.matrix import MatrixForm
from symgrad.symbolic.scalar import ScalarForm

SymbolicForm = ScalarForm | MatrixForm | ClassLossForm

__all__ = ["ClassLossForm", "MatrixForm", "ScalarForm", "SymbolicForm"]
