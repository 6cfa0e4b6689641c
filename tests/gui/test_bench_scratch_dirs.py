"""A benchmark's console session keeps its history and routes off the operator's own files."""

from __future__ import annotations

import os
from pathlib import Path

from tests.bench.console_bench import console_session


def test_a_bench_session_writes_only_to_its_scratch_dirs(qtbot, user_dirs):
    with console_session({}) as session:
        assert session.runtime is not None, session.start_error
        scratch = Path(os.environ["XDG_DATA_HOME"]).parent
        assert scratch != user_dirs.root
        history = session.bridge.history
        assert history is not None and history.path.is_relative_to(scratch)
        assert history.path.exists()
        routes = Path(session.runtime.webhook.app.config["ROUTES_FILE"])
        assert routes.is_relative_to(scratch)
    assert os.environ["XDG_DATA_HOME"] == str(user_dirs.data)
    assert os.environ["XDG_CONFIG_HOME"] == str(user_dirs.config)
    assert not scratch.exists()
    assert not any(user_dirs.data.iterdir()) and not any(user_dirs.config.iterdir())
