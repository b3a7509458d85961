"""Import substitution: alternatives, substitution lists and split-sample statistics."""
