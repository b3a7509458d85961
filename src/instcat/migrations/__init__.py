"""Alembic migrations.

Each revision spells out its tables, columns and stored formats in full, even where that
repeats the models, another revision or application constants: a released revision must
keep doing exactly what it did, whatever the application code becomes later.
"""
