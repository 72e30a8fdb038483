"""Messages in Chinese: the catalog is complete and consistent, and the CLI speaks it."""

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from rich.cells import cell_len

from symgrad import i18n

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "symgrad" / "locale" / "symgrad.pot"
CHINESE = ROOT / "symgrad" / "locale" / "zh" / "LC_MESSAGES" / "symgrad.po"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _read(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def test_the_template_holds_every_message_of_the_code(tmp_path):
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [Path(sys.executable).with_name("pybabel"), "extract", "-F", "babel.cfg", "-k", "_",
         "-k", "N_", "-k", "ngettext:1,2", "--no-location", "--omit-header", "-o", fresh, "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    extracted = {m.id for m in _read(fresh) if m.id}
    assert extracted == {m.id for m in _read(TEMPLATE) if m.id}, (
        "symgrad/locale/symgrad.pot is stale: run the pybabel extract line in babel.cfg"
    )


def test_every_message_has_its_chinese_with_the_same_placeholders():
    chinese = _read(CHINESE)
    for message in _read(TEMPLATE):
        if not message.id:
            continue
        translated = chinese.get(message.id)
        assert translated is not None and translated.string, f"untranslated: {message.id!r}"
        assert not translated.fuzzy, f"fuzzy: {message.id!r}"
        english = message.id if isinstance(message.id, str) else " ".join(message.id)
        text = (
            translated.string if isinstance(translated.string, str) else " ".join(translated.string)
        )
        assert set(PLACEHOLDER.findall(english)) == set(PLACEHOLDER.findall(text)), english


def test_the_chinese_catalog_is_well_formed():
    """Every msgid line opens a message of its own, and no translation carries English
    prose: a merge once glued an English msgid onto the msgstr before it."""
    text = CHINESE.read_text(encoding="utf-8")
    messages = list(_read(CHINESE))
    assert len(re.findall(r"^msgid ", text, re.MULTILINE)) == len(messages)
    for message in messages:
        translated = message.string if isinstance(message.string, str) else " ".join(message.string)
        assert not re.search(r"[a-z]{4,} [a-z]{4,} [a-z]{4,} [a-z]{4,}", translated), message.id


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_TW"}, "zh"),
        ({"LC_MESSAGES": "zh_CN", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),  # LC_ALL comes first, as for gettext
        ({"SYMGRAD_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"SYMGRAD_LANG": "zh", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_language_comes_from_the_environment(monkeypatch, environment, expected):
    for variable in ("SYMGRAD_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setattr(i18n, "_chosen", None)
    assert i18n.language() == expected


def _run(*args: str, **environment: str) -> subprocess.CompletedProcess:
    from conftest import symgrad_executable

    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "80", **environment}
    return subprocess.run([symgrad_executable(), *args], capture_output=True, text=True, env=env)


def test_derive_speaks_the_notes_terms_in_chinese():
    for shown in (
        _run("derive", "sigmoid", LANG="zh_CN.UTF-8").stdout,
        _run("--lang", "zh", "derive", "sigmoid").stdout,
    ):
        assert "计算图，正向传播 →" in shown and "链式法则，反向传播 ←" in shown
        assert "局部导数" in shown and "用输出表示的导数" in shown
        assert "∂y/∂x = y(1 − y)" in shown  # the mathematics stays as it is
    english = _run("derive", "sigmoid", LANG="zh_CN.UTF-8", SYMGRAD_LANG="en").stdout
    assert "Computational graph, forward →" in english


def test_a_derivation_cached_in_english_is_shown_in_chinese(tmp_path):
    """Derivations are cached on disk once; their notes and conditions are translated
    where they are drawn, so a cache filled by an English run serves a Chinese one."""
    cache = {"SYMGRAD_CACHE_DIR": str(tmp_path)}
    english = _run("derive", "softmax-with-loss", LANG="C", **cache).stdout
    assert "note: derived with rows of 3 entries" in english
    assert "(batch mean over N samples)" in english
    chinese = _run("derive", "softmax-with-loss", LANG="zh_CN.UTF-8", **cache).stdout
    assert "注意：按每行 3 个元素推导" in chinese and "对 N 个样本取批平均" in chinese
    assert not re.search(r"derived|batch mean|probability", chinese)


def test_list_says_what_shape_means_in_chinese():
    shown = _run("list", LANG="zh_CN.UTF-8").stdout
    assert "--shape 表示：每个输入的形状" in shown and "N,C：批大小，类别数" in shown
    assert "（否则）" in shown  # relu's piecewise formula, in words
    assert not re.search(r"every input|batch,|otherwise", shown)


def test_clicks_own_words_are_chinese_too():
    shown = _run("derive", "--help", LANG="zh_CN.UTF-8").stdout
    assert shown.startswith("用法：symgrad derive") and "选项：" in shown and "参数：" in shown
    assert "[必填]" in shown and "显示本帮助并退出。" in shown
    assert not re.search(r"Usage|Options|Arguments|required|Show this", shown)
    cases = {
        ("derive",): "缺少参数 'layer'。",
        ("derive", "--ordr", "2", "sigmoid"): "没有这个选项：--ordr（你是不是想用 --order？）",
        ("derive", "sigmoid", "extra"): "多出了参数：extra",
    }
    for args, expected in cases.items():
        failed = _run(*args, LANG="zh_CN.UTF-8")
        assert failed.returncode == 2 and failed.stderr == f"symgrad：错误：{expected}\n"


def test_the_chinese_help_fits_80_columns():
    shown = _run("--help", LANG="zh_CN.UTF-8")
    assert shown.returncode == 0 and "列出所有层" in shown.stdout
    assert all(cell_len(line) <= 80 for line in shown.stdout.splitlines()), shown.stdout


def test_an_unknown_language_is_one_line():
    done = _run("--lang", "fr", "list")
    assert done.returncode == 2
    assert done.stderr.strip() == "symgrad: error: --lang 'fr': choose one of en, zh"


def test_compare_reads_in_chinese_and_keeps_its_columns_at_80():
    shown = _run("--lang", "zh", "compare", "affine", "--shape", "2,3").stdout
    assert "梯度" in shown and "✓ 一致" in shown and "上界" in shown
    assert "全部 3 个梯度一致：反向传播 = 符号导数 = 数值导数" in shown
    assert all(cell_len(line) <= 80 for line in shown.splitlines())
    header = next(line for line in shown.splitlines() if line.startswith("梯度"))
    row = next(line for line in shown.splitlines() if line.startswith("dX"))
    assert cell_len(header) == cell_len(row)  # wide characters measured, columns aligned


def test_lists_and_shapes_built_in_code_read_as_chinese():
    """The pieces the renderer glues together (the list of checked gradients, a scalar's
    shape, a derivative's condition) follow Chinese punctuation, not the English pieces."""
    shown = _run("--lang", "zh", "compare", "affine", "--shape", "2,3").stdout
    compared = "".join(
        line.rstrip() for line in shown.splitlines()
    )  # Chinese wraps without a space
    assert "已逐个元素检查：dX（4 个）、dW（6 个）、db（3 个）。" in compared
    loss = _run("--lang", "zh", "compare", "softmax-with-loss").stdout
    assert "L (标量)" in loss and "scalar" not in loss
    derived = _run("--lang", "zh", "derive", "softmax-with-loss").stdout
    assert "（对 N 个样本取批平均）" in derived
    english = _run("--lang", "en", "compare", "affine", "--shape", "2,3").stdout
    assert "Checked every element of dX (4), dW (6), db (3)." in " ".join(english.split())


WRONG_LAYER = """
class Double:
    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, dout):
        return 4 * self.x * dout
"""
ASCII_WORD = re.compile(r"[A-Za-z]{3,}")


def test_a_wrong_layer_is_explained_in_chinese(tmp_path):
    layer = tmp_path / "wrong.py"
    layer.write_text(WRONG_LAYER)
    done = _run("check", f"{layer}:Double", "--input", "2,3", SYMGRAD_LANG="zh")
    assert done.returncode == 1
    findings = done.stdout[done.stdout.index("问题：") :]
    assert "提示：backward 处处是正确梯度的 2 倍：多乘了一个因子 2" in findings
    assert "✗ Double：1 个问题。" in findings
    # Only names and units are Latin: the class, the method named in the hint, ulp.
    assert set(ASCII_WORD.findall(findings)) <= {"Double", "backward", "ulp"}, findings
    assert all(cell_len(line) <= 80 for line in done.stdout.splitlines())


def test_json_stays_english_whatever_the_language(tmp_path):
    layer = tmp_path / "wrong.py"
    layer.write_text(WRONG_LAYER)
    english = _run("check", f"{layer}:Double", "--input", "2,3", "--json")
    chinese = _run("check", f"{layer}:Double", "--input", "2,3", "--json", SYMGRAD_LANG="zh")
    assert english.returncode == chinese.returncode == 1
    strip = re.compile(r'"seconds": [0-9.e-]+')  # the one thing that differs between runs
    assert strip.sub("", chinese.stdout) == strip.sub("", english.stdout)
    assert "is wrong at 6 of 6 elements" in chinese.stdout


def test_net_reads_in_chinese_and_keeps_its_columns_at_80():
    shown = _run("net", "affine:10,relu,affine:3,softmax-with-loss", "--input", "2,5",
                 SYMGRAD_LANG="zh").stdout  # fmt: skip
    assert "端到端，逐个参数：" in shown and "逐层检查" in shown
    assert "✓ 全部 4 个参数端到端一致；全部 4 层单独检查一致" in shown
    assert "dW、db（不需要 dx）" in shown
    lines = shown.splitlines()
    assert all(cell_len(line) <= 80 for line in lines), shown
    header = next(line for line in lines if line.startswith("#"))
    row = next(line for line in lines if line.startswith("4   SoftmaxWithLoss"))
    assert cell_len(header) == cell_len(row)


def test_chinese_prose_breaks_between_characters_and_english_as_rich_does():
    from rich.console import Console, Group
    from rich.text import Text

    from symgrad.render.prose import Prose

    def shown(text, width):
        console = Console(width=width, file=io.StringIO(), record=True)
        console.print(Group(text))  # in a group, as the renderers print it
        return console.export_text().splitlines()

    sentence = (
        "ReLU.backward 原地改写了它的参数 dout（把 6 个元素中的 2 个设成了 0）。请在副本上操作。"
    )
    lines = shown(Prose(sentence), 24)
    assert "".join(lines).replace(" ", "") == sentence.replace(" ", "")
    assert all(cell_len(line.rstrip()) <= 24 for line in lines)
    assert len(lines) == 4  # filled: rich alone ends a line early at each space
    assert not any(line.lstrip()[:1] in "，。）：" for line in lines)  # no line opens on a closer
    english = "Re-derive dx from forward, one operation at a time (symgrad derive). " * 3
    for width in (17, 40, 80):
        assert shown(Prose(english), width) == shown(Text(english), width)


def test_steps_reads_in_chinese_and_keeps_its_columns_at_80():
    shown = _run("steps", "sigmoid", SYMGRAD_LANG="zh").stdout
    assert "精确值（SymPy，50 位）：0.235003712201594" in shown
    assert "█ 截断误差为主（随 h 变小而下降）" in shown and "◀ 最佳步长" in shown
    assert "  central：最佳 h = 1e-05（误差 6.7e-13）；自动 h = 1.7e-05（误差 8.9e-12）" in shown
    lines = shown.splitlines()
    assert all(cell_len(line) <= 80 for line in lines), shown
    header = next(line for line in lines if line.lstrip().startswith("h "))
    row = next(line for line in lines if line.startswith("1e-05"))
    assert cell_len(header) == cell_len(row)
    assert not ASCII_WORD.findall(lines[-1].replace("complex-step", "").replace("symgrad", ""))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("compare", "affine", "--shape", "2,x"), "--shape '2,x' 格式不对：应为 2,3 这样的正整数"),
        (
            ("compare", "affine", "--dtype", "bogus"),
            "未知的 dtype 'bogus'；请选择 float64 或 float32",
        ),
        (("compare", "sigmod"), "未知的层 'sigmod'；你是不是想输入 'sigmoid'？"),
        (("net", "affine:10,relu"), "最后一层必须是损失层（softmax-with-loss 或 sigmoid-with-loss"),
        (("check", "examples/note_layers.py:Affine", "--input", "2,3"), "Affine() 需要 W, b"),
    ],
)
def test_a_bad_input_is_one_line_in_chinese(args, expected):
    done = _run(*args, SYMGRAD_LANG="zh")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("symgrad：错误：")
    assert expected in done.stderr
    english = _run(*args)
    assert english.returncode == 2 and english.stderr.startswith("symgrad: error: ")


def test_every_commands_chinese_help_fits_80_columns():
    for command in ("check", "compare", "derive", "graph", "net", "steps", "list"):
        shown = _run(command, "--help", SYMGRAD_LANG="zh").stdout
        assert all(cell_len(line) <= 80 for line in shown.splitlines()), shown
    shown = _run("check", "--help", SYMGRAD_LANG="zh").stdout
    assert "检查你自己写的层的反向传播" in shown and "退出状态：" in shown
    assert "--strict                 把两种原本只是警告的情况算作问题" in shown
