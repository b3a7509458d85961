"""instcat: the catalogue behind the import-substitution list for scientific instruments."""

__version__ = "0.1.0"
