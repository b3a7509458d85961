"""The plain grading rule, product by product through the ORM: slow and obvious, so the
fast paths in `instcat.substitution` (ranking, matrix, compact) are compared with it."""
