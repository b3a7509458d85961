"""The data revision: one row whose value changes with every committed write."""

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel


class DataRevision(SQLModel, table=True):
    """A random token replaced by every write transaction, so that every process serving the
    database can tell cheaply whether what it derived earlier is still current."""

    __tablename__ = "data_revision"

    id: int = Field(primary_key=True)
    value: int = Field(sa_column=Column(BigInteger, nullable=False))
