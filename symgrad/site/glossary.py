"""The glossary: every term symgrad prints, in English and in the note's Chinese.

One table serves both languages' glossary pages (as a generated snippet) and the Chinese
search, whose word segmenter (jieba) is taught these terms so that 反向传播 or 链式法则 is
one word of the index, as a reader types it. The Chinese of each term is the word the
message catalog uses for it (``tests/test_site_generation.py`` checks that the catalog
says it so), which follows the note: 计算图, 局部导数, 上游传来的导数.
"""

from __future__ import annotations

# (English, Chinese), in the order a reader of the note meets them. Data in both
# languages, not messages: neither column is translated.
TERMS: tuple[tuple[str, str], ...] = (
    ("computational graph", "计算图"),
    ("node", "节点"),
    ("forward", "正向传播"),
    ("backward", "反向传播"),
    ("chain rule", "链式法则"),
    ("local derivative", "局部导数"),
    ("upstream", "上游传来的导数"),
    ("add node", "加法层"),
    ("multiply node", "乘法层"),
    ("apple problem", "苹果问题"),
    ("worked example", "例题"),
    ("derivative", "导数"),
    ("gradient", "梯度"),
    ("layer", "层"),
    ("input", "输入"),
    ("output", "输出"),
    ("parameter", "参数"),
    ("shape", "形状"),
    ("element", "元素"),
    ("batch", "批"),
    ("loss", "损失"),
    ("numeric", "数值导数"),
    ("symbolic", "符号导数"),
    ("truncation error", "截断误差"),
    ("rounding error", "舍入误差"),
    ("step", "步长"),
    ("bound", "上界"),
    ("tolerance", "容差"),
    ("verdict", "结论"),
    ("agree", "一致"),
    ("kink", "不可导点"),
    ("subgradient", "次梯度"),
    ("one-sided derivative", "左导数"),
    ("Hessian", "黑塞矩阵"),
    ("second derivative", "二阶导数"),
    ("seed", "种子"),
    ("one-hot labels", "one-hot 标签"),
    ("random projection", "随机投影"),
    ("finding", "检查结果"),
)


def chinese_words() -> list[str]:
    """The Chinese terms, for the search's word segmenter."""
    return [chinese for _english, chinese in TERMS if " " not in chinese]
