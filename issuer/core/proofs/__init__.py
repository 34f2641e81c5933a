"""Securing credentials: Data Integrity proofs (one module per cryptosuite) and VC-JWTs."""

from __future__ import annotations

__all__: list[str] = []
