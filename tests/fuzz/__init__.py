"""Fuzz tests of every reader (see docs/fuzzing.md)."""
