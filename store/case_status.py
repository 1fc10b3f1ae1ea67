"""Case statuses, in the order a case usually moves (the vocabulary the case tables store)."""
from __future__ import annotations

RECEIVED = "受付"
IN_PROGRESS = "対応中"
DISCUSSING = "協議中"
MATCHED = "マッチング成立"
STARTED = "取組化"
DONE = "完了"
DECLINED = "見送り"
WITHDRAWN = "取り下げ"

FLOW = (RECEIVED, IN_PROGRESS, DISCUSSING, MATCHED, STARTED, DONE, DECLINED, WITHDRAWN)
CLOSED = frozenset({DONE, DECLINED, WITHDRAWN})
