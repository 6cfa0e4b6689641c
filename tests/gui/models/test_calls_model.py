"""CallsModel over a long shift: the oldest finished calls leave the table together."""

from console.core.calls.records import Call
from console.models.calls_model import EVICT_BATCH, KEEP_FINISHED, CallsModel


def call(n: int, status: str = "completed") -> Call:
    return Call(f"CA{n:05d}", f"+1555{n:07d}", "+15005550006", status, "outbound-api")


def test_finished_calls_leave_in_batches_and_live_ones_stay(qtbot):
    model = CallsModel()
    model.upsert(call(0, "in-progress"))  # live all shift: never leaves
    removals: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _parent, first, last: removals.append((first, last)))
    for n in range(1, KEEP_FINISHED + EVICT_BATCH + 1):
        model.upsert(call(n))
    assert removals == []  # up to a batch beyond the limit stays
    model.upsert(call(KEEP_FINISHED + EVICT_BATCH + 1))
    # One removal, of the oldest finished calls just below the live one: one redraw, not 51.
    assert removals == [(1, EVICT_BATCH + 1)]
    records = model.records()
    assert records[0].sid == "CA00000" and not records[0].finished
    assert len(records) == KEEP_FINISHED + 1
    assert records[1].sid == call(EVICT_BATCH + 2).sid  # the newest KEEP_FINISHED are kept
    assert model.row_of(records[-1].sid) == KEEP_FINISHED  # the SID index follows the rows
    assert model.call("CA00001") is None


def test_remove_rows_takes_each_run_of_neighbours_at_once(qtbot):
    model = CallsModel()
    for n in range(8):
        model.upsert(call(n, "ringing"))
    removals: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _parent, first, last: removals.append((first, last)))
    model.remove_rows([6, 1, 2, 3, 99])
    assert removals == [(6, 6), (1, 3)]  # from the bottom up, so rows stay valid
    assert [c.sid for c in model.records()] == ["CA00000", "CA00004", "CA00005", "CA00007"]
    assert model.row_of("CA00007") == 3
