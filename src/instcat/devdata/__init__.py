"""Synthetic catalogue data for load tests, benchmarks and demos (`instcat dev generate`)."""

from instcat.devdata.runner import Sizes, generate
from instcat.errors import GenerateError

__all__ = ["GenerateError", "Sizes", "generate"]
