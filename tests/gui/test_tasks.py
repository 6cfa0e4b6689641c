"""TaskRunner: blocking work runs on the pool and reports back on the GUI thread."""

import threading

from PySide6.QtCore import QThread

from console.tasks import TaskRunner


def test_result_returns_on_gui_thread(qtbot):
    runner = TaskRunner()
    gui_thread = QThread.currentThread()
    seen = {}

    def work():
        seen["worker"] = threading.current_thread()
        return 42

    def done(result):
        seen["result"] = result
        seen["callback_thread"] = QThread.currentThread()

    runner.submit(work, on_done=done)
    qtbot.waitUntil(lambda: "result" in seen)
    assert seen["result"] == 42
    assert seen["worker"] is not threading.main_thread()
    assert seen["callback_thread"] is gui_thread
    assert runner.pending == 0


def test_exception_reaches_on_error(qtbot):
    runner = TaskRunner()
    errors = []

    def boom():
        raise ValueError("bad input")

    runner.submit(boom, on_error=errors.append)
    qtbot.waitUntil(lambda: len(errors) == 1)
    assert isinstance(errors[0], ValueError)
    assert str(errors[0]) == "bad input"


def test_gui_thread_keeps_running_while_a_job_blocks(qtbot):
    runner = TaskRunner()
    release = threading.Event()
    finished = []
    runner.submit(lambda: release.wait(10), on_done=finished.append)
    # The event loop is free: a signal emitted now is processed while the job still blocks.
    with qtbot.waitSignal(runner.busy_changed, timeout=2000) as blocker:
        runner.busy_changed.emit(runner.pending)
    assert blocker.args == [1]
    assert finished == []
    release.set()
    qtbot.waitUntil(lambda: finished == [True])
    assert runner.wait(2000)
