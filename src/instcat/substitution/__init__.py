"""Import substitution: alternatives and substitution lists (trial statistics: instcat.stats)."""
