"""Case statuses, in the order a case usually moves, and what the citizen is told at each.

The citizen-facing sentences live here, in one place, for the office to edit.
"""
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

CITIZEN_MESSAGE = {
    RECEIVED: "受付番号 {reference} のご相談・ご提案を受け付けました。",
    IN_PROGRESS: "受付番号 {reference} は、担当者が対応を始めました。",
    DISCUSSING: "受付番号 {reference} は、関係する部署や団体と協議を進めています。",
    MATCHED: "受付番号 {reference} は、協働の相手が見つかりました（マッチング成立）。担当者から詳しくご連絡します。",
    STARTED: "受付番号 {reference} は、協働の取組として動き出しました。ありがとうございます。",
    DONE: "受付番号 {reference} の対応が完了しました。ご利用ありがとうございました。",
    DECLINED: "受付番号 {reference} は、今回は見送りとなりました。詳しくは担当者からご説明します。",
    WITHDRAWN: "受付番号 {reference} の取り下げを受け付けました。",
}


def citizen_message(status: str, reference: str) -> str:
    return CITIZEN_MESSAGE[status].format(reference=reference)
