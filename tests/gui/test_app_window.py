"""The console command opens a window titled Switchboard."""

from console.app import build_window
from console.cli import build_parser


def test_window_title_and_size(qtbot):
    window = build_window()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.windowTitle() == "Switchboard"
    assert window.width() >= 1024
    text = window.centralWidget().text()
    assert "switchboard sandbox" in text and "switchboard webhook" in text


def test_no_subcommand_means_the_window():
    args = build_parser().parse_args([])
    assert args.command is None
    assert build_parser().parse_args(["--sandbox"]).sandbox is True
