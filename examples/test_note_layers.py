"""symgrad's checks inside your own tests: ``pytest examples/test_note_layers.py``.

Each test builds one of the note's layers (examples/note_layers.py) and asserts that
symgrad finds nothing wrong with it; a failure's message is symgrad's report, which
says in words what is wrong and how to fix it. The note's ReLU and SoftmaxWithLoss
have known problems, so their tests state what symgrad must find.
"""

import numpy as np
import pytest
from note_layers import AddLayer, Affine, MulLayer, ReLU, Sigmoid, SoftmaxWithLoss

from symgrad.testing import assert_backward_ok

rng = np.random.default_rng(0)


def test_add_and_mul():
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    assert_backward_ok(AddLayer(), x, y)
    assert_backward_ok(MulLayer(), x, y)


def test_sigmoid():
    assert_backward_ok(Sigmoid(), rng.standard_normal((4, 5)))


def test_affine():
    layer = Affine(rng.standard_normal((3, 4)), rng.standard_normal(4))
    report = assert_backward_ok(layer, rng.standard_normal((2, 3)))
    assert [g.name for g in report.comparison.gradients] == ["dx", "dW", "db"]


def test_the_notes_relu_is_caught():
    with pytest.raises(AssertionError, match="forward returned None"):
        assert_backward_ok(ReLU(), rng.standard_normal((2, 3)))


def test_the_notes_softmax_with_loss_passes_with_two_warnings():
    # Its backward is the exact derivative of softmax-with-loss; the forward's log(y + 1e-7)
    # and a backward that ignores dout are warnings, errors only with strict=True.
    x, t = rng.standard_normal((2, 3)), np.eye(3)[[0, 2]]
    report = assert_backward_ok(SoftmaxWithLoss(), x, t, constants=[1])
    assert len(report.warnings) == 2
    with pytest.raises(AssertionError, match="ignores dout"):
        assert_backward_ok(SoftmaxWithLoss(), x, t, constants=[1], strict=True)
