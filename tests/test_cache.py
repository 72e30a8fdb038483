"""The derivation cache serves stored results only for the same question and the same code."""

import pickle

from symgrad.symbolic import cache


def test_remember_computes_once_then_reads(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"answer": 42}

    assert cache.remember(("q",), compute) == {"answer": 42}
    assert cache.remember(("q",), compute) == {"answer": 42}
    assert len(calls) == 1
    assert cache.remember(("another question",), compute) == {"answer": 42}
    assert len(calls) == 2


def test_a_code_change_misses_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    cache.remember(("q",), lambda: "old code's answer")
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "a different source tree")
    assert cache.remember(("q",), lambda: "new code's answer") == "new code's answer"


def test_a_damaged_entry_is_recomputed(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    cache.remember(("q",), lambda: 1)
    (entry,) = (tmp_path / "symgrad").glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    assert cache.remember(("q",), lambda: 2) == 2
    assert pickle.loads(entry.read_bytes()) == 2


def test_disabled_cache_always_computes(monkeypatch, tmp_path):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SYMGRAD_NO_CACHE", "1")
    cache.remember(("q",), lambda: 1)
    assert not (tmp_path / "symgrad").exists()
