"""Hypothesis strategies that break valid files: byte and token level mutations."""

from __future__ import annotations

import re
from collections.abc import Callable

from hypothesis import strategies as st

__all__ = ["INTERESTING", "mutated"]

INTERESTING: tuple[bytes, ...] = (
    b"",
    b"0",
    b"-0",
    b"-1",
    b"-999999999999",
    b"1e-400",
    b"1e309",
    b"-1e309",
    b"nan",
    b"NaN",
    b"inf",
    b"-Infinity",
    b"2147483647",
    b"4294967296",
    b"18446744073709551616",
    b"1000000000",
    b"99999999999999999999999999999999999999999",
    b"9" * 400,
    b"1" * 5000,
    b"0x10",
    b"1_0",
    b"1e5",
    b"\xff\xfe",
    b"\xc3\x28",
    b"\x00",
    b"\xef\xbb\xbf",
    "é".encode(),
    "²".encode(),
    "١٢".encode(),
    b"true",
    b"null",
    b"[]",
    b"{}",
    b'"',
    b"'",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b"\n",
    b"\r",
    b"#",
    b";",
    b"=",
    b"<",
    b"&",
    b"0001-01-01T00:00:00+01:00",
    b"9999-12-31T23:59:59-14:00",
    b"2026-02-30T00:00:00",
)
"""Values that often trip parsers (edges of integer types, non-finite, encodings)."""

_TOKEN = re.compile(rb"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[A-Za-z_][A-Za-z_0-9]*")
_MAX_SIZE = 1 << 20

Mutation = Callable[[bytes], bytes]


def _at(data: bytes, where: int) -> int:
    return where % (len(data) + 1)


def _truncate(where: int) -> Mutation:
    return lambda d: d[: _at(d, where)]


def _flip(where: int, bit: int) -> Mutation:
    def f(d: bytes) -> bytes:
        if not d:
            return d
        i = where % len(d)
        return d[:i] + bytes([d[i] ^ (1 << bit)]) + d[i + 1 :]

    return f


def _insert(where: int, junk: bytes) -> Mutation:
    return lambda d: d[: _at(d, where)] + junk + d[_at(d, where) :]


def _overwrite(where: int, junk: bytes) -> Mutation:
    return lambda d: d[: _at(d, where)] + junk + d[_at(d, where) + len(junk) :]


def _delete(where: int, size: int) -> Mutation:
    return lambda d: d[: _at(d, where)] + d[_at(d, where) + size :]


def _repeat(where: int, size: int, times: int) -> Mutation:
    def f(d: bytes) -> bytes:
        i = _at(d, where)
        chunk = d[i : i + size]
        return d[:i] + chunk * times + d[i:]

    return f


def _token(k: int, value: bytes) -> Mutation:
    def f(d: bytes) -> bytes:
        spans = [m.span() for m in _TOKEN.finditer(d)]
        if not spans:
            return d
        a, b = spans[k % len(spans)]
        return d[:a] + value + d[b:]

    return f


def _int_field(where: int, size: int, value: int) -> Mutation:
    def f(d: bytes) -> bytes:
        raw = (value % (1 << (8 * size))).to_bytes(size, "little")
        return _overwrite(where, raw)(d)

    return f


_where = st.integers(0, 1 << 20)
_junk = st.one_of(st.sampled_from(INTERESTING), st.binary(min_size=1, max_size=24))


def _mutation(text: bool) -> st.SearchStrategy[Mutation]:
    ops: list[st.SearchStrategy[Mutation]] = [
        st.builds(_truncate, _where),
        st.builds(_flip, _where, st.integers(0, 7)),
        st.builds(_insert, _where, _junk),
        st.builds(_overwrite, _where, _junk),
        st.builds(_delete, _where, st.integers(1, 64)),
        st.builds(_repeat, _where, st.integers(1, 64), st.integers(2, 2000)),
        st.builds(
            _int_field,
            _where,
            st.sampled_from([1, 2, 4, 8]),
            st.sampled_from([0, 1, -1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 2**31 - 1, 2**31, 2**32 - 1])
            | st.integers(-(2**63), 2**64),
        ),
        st.builds(
            _insert,
            _where,
            st.builds(
                lambda c, n: c * n,
                st.sampled_from([b"[", b"{", b"<a>", b'{"a":']),
                st.integers(1, 3000),
            ),
        ),
    ]
    if text:
        ops += [st.builds(_token, st.integers(0, 400), _junk)] * 3
    return st.one_of(ops)


def _apply(sample: bytes, mutations: list[Mutation]) -> bytes:
    data = sample
    for m in mutations:
        data = m(data)[:_MAX_SIZE]
    return data


def mutated(sample: bytes, *, text: bool) -> st.SearchStrategy[bytes]:
    """Strategy: ``sample`` after 1-4 random mutations (rarely: random bytes instead)."""
    broken = st.lists(_mutation(text), min_size=1, max_size=4).map(lambda ms: _apply(sample, ms))
    return st.one_of(broken, broken, broken, broken, broken, st.binary(max_size=256))
