"""Synthetic catalogue data for load tests, benchmarks and demos (`instcat dev generate`)."""

from instcat.devdata.base import GenerateError
from instcat.devdata.runner import Sizes, generate

__all__ = ["GenerateError", "Sizes", "generate"]
