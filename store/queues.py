"""What the inbox and the outbox share: rows queue per person (or target), and only the head of
each queue may be taken, so each person's rows are handled in order."""
from __future__ import annotations

from sqlalchemy import Subquery, Table, func, select

CANDIDATES_PER_PLACE = 4  # heads offered per row wanted, so that processes taking at once take different rows


def heads(table: Table, queue_by: tuple, *where, also: tuple = ()) -> Subquery:
    """The oldest row of each queue among the rows matching `where` (columns id and `also`), found
    in one linear pass over those rows, whatever the planner knows of the table."""
    ranked = (select(table.c.id, *also, func.row_number().over(partition_by=queue_by, order_by=table.c.id).label("place"))
              .where(*where).subquery())
    return select(ranked).where(ranked.c.place == 1).subquery()
