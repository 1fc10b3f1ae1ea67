"""What the inbox and the outbox share: rows queue per person (or target), and only the head of
each queue may be taken, so each person's rows are handled in order."""
from __future__ import annotations

from sqlalchemy import Subquery, Table, func, select
from sqlmodel import Session

CANDIDATES_PER_PLACE = 4  # heads offered per row wanted, so that processes taking at once take different rows
WINDOW = 1024  # the oldest rows looked at for heads: a claim costs the same whatever the backlog


def heads(table: Table, queue_by: tuple, *where, also: tuple = (), window: int | None = WINDOW) -> Subquery:
    """The oldest row of each queue among the rows matching `where` (columns id and `also`), found
    in one pass over those rows, whatever the planner knows of the table.

    With `window`, only the oldest `window` of those rows are looked at. The heads found are still
    true heads (a queue with a row among the oldest has its oldest row there too), but a queue
    whose rows all come later is not seen: see `window_full`.
    """
    matching = select(table.c.id, *queue_by, *also).where(*where)
    if window:
        matching = matching.order_by(table.c.id).limit(window)
    rows = matching.subquery()
    ranked = select(rows.c.id, *(rows.c[c.name] for c in also),
                    func.row_number().over(partition_by=[rows.c[c.name] for c in queue_by], order_by=rows.c.id)
                    .label("place")).subquery()
    return select(ranked).where(ranked.c.place == 1).subquery()


def window_full(session: Session, table: Table, *where) -> bool:
    """Whether more rows match `where` than a window holds, so that a short take may have missed
    queues further back (one person's flood of events filling the window, say)."""
    beyond = select(table.c.id).where(*where).order_by(table.c.id).offset(WINDOW).limit(1)
    return session.execute(beyond).first() is not None
