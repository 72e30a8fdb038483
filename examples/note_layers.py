# The study note's layers, copied as the note prints them, to check with symgrad:
#
#   symgrad check examples/note_layers.py:AddLayer --input 2,3 --input 2,3
#   symgrad check examples/note_layers.py:MulLayer --input 2,3 --input 2,3
#   symgrad check examples/note_layers.py:ReLU --input 2,3
#   symgrad check examples/note_layers.py:Sigmoid --input 2,3
#   symgrad check examples/note_layers.py:Affine --input 2,3 --init W=3,4 --init b=4
#   symgrad check examples/note_layers.py:SoftmaxWithLoss --input 2,3 --labels 2,3
#
# Only two things are added to the note's code. SoftmaxWithLoss is printed with tabs and
# spaces mixed, which Python refuses to run (TabError), so its indentation is redone and
# nothing else. And the note calls softmax and cross_entropy_error without showing them:
# they are the book's (common/functions.py), at the end of this file, as the book has them.
# ruff: noqa
# fmt: off
import numpy as np

#加法层
class AddLayer:
    def __init__(self):
        pass
    def forward(self,x,y):
        out = x + y
        return out
    def backward(self, dout):
        dx = dout * 1
        dy = dout * 1
        return dx, dy

#乘法层
class MulLayer:
    def __init__(self):
        self.x = None
        self.y =None
    def forward(self,x,y):
        self.x = x
        self.y = y
        out = x * y
        
        return out
    def backward(self,dout):
        dx = dout * self.y#就像翻转一样
        dy = dout * self.x
        
        return dx,dy

class ReLU:
    def __init__(self):
        self.mask = None
        
    def forward(self,x):
        self.mask = (x<=0)
        out = x.copy()
        out[self.mask] = 0
        
    def backward(self,dout):
        dout[self.mask] = 0
        dx = dout
        
        return dx

class Sigmoid:
    def __init__(self):
        self.out = None
        
    def forward(self,x):
        out  = 1/(1+np.exp(-x))
        self.out = out
        
        return out
    def backward(self,dout):
        dx = dout * (1.0-self.out) *self.out
        
        return dx

class Affine:
 def __init__(self, W, b):
     self.W = W
     self.b = b
     self.x = None
     self.dW = None
     self.db = None
 def forward(self, x):
     self.x = x
     out = np.dot(x, self.W) + self.b
     return out
 def backward(self, dout):
     dx = np.dot(dout, self.W.T)
     self.dW = np.dot(self.x.T, dout)
     self.db = np.sum(dout, axis=0)
     return dx

class SoftmaxWithLoss:
     def __init__(self):
         self.loss = None # 损失
         self.y = None # softmax的输出
         self.t = None # 监督数据（one-hot vector）
     def forward(self, x, t):
         self.t = t
         self.y = softmax(x)
         self.loss = cross_entropy_error(self.y, self.t)
         return self.loss
     def backward(self, dout=1):
         batch_size = self.t.shape[0]
         dx = (self.y - self.t) / batch_size#消除数量的影响
         return dx


# The book's common/functions.py, which the note's SoftmaxWithLoss relies on.
def softmax(x):
    if x.ndim == 2:
        x = x.T
        x = x - np.max(x, axis=0)
        y = np.exp(x) / np.sum(np.exp(x), axis=0)
        return y.T

    x = x - np.max(x)  # guard against overflow
    return np.exp(x) / np.sum(np.exp(x))


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)

    # one-hot labels: turn them into the indices of the right classes
    if t.size == y.size:
        t = t.argmax(axis=1)

    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size
