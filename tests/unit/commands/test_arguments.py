"""Bad values on the command line: one line on stderr, exit 2, never a traceback."""

from __future__ import annotations

import pytest

from console.commands.cli import main

BAD = [
    (["webhook", "--port", "70000"], "--port: 70000 is not a port number (0 to 65535)"),
    (["webhook", "--port", "-5"], "--port: -5 is not a port number"),
    (["webhook", "--port", "http"], "--port: 'http' is not a port number"),
    (["webhook", "--host", "bogus.invalid"], "'bogus.invalid' is not a known host name"),
    (["webhook", "--host", "192.0.2.1"], "'192.0.2.1' is not an address of this machine"),
    (["webhook", "--workers", "abc"], "--workers: 'abc' is not a whole number"),
    (["webhook", "--workers", "0"], "--workers: 0 is less than 1"),
    (["sandbox", "--port", "65536"], "--port: 65536 is not a port number"),
    (["sandbox", "--host", "bogus.invalid"], "'bogus.invalid' is not a known host name"),
    (["sandbox", "--ring-delay", "-1"], "--ring-delay: '-1' is negative"),
    (["sandbox", "--ring-delay", "nan"], "--ring-delay: 'nan' is not a finite number"),
    (["dial", "+15551234567", "--room", "R", "--timeout", "nan"], "'nan' is not a finite"),
    (["dial", "+15551234567", "--room", "R", "--timeout", "inf"], "'inf' is not a finite"),
    (["dial", "+15551234567", "--room", "R", "--timeout", "0"], "'0' is not a positive"),
    (["self-test", "--timeout=-inf"], "'-inf' is not a finite"),
    (["doctor", "--webhook-port", "99999"], "--webhook-port: 99999 is not a port number"),
    (["history", "--limit", "0"], "--limit: 0 is less than 1"),
    (["dial", "+15551234567"], "the following arguments are required: --room"),
    (["nosuch"], "invalid choice: 'nosuch'"),
    (["history", "--nosuch"], "unrecognized arguments: --nosuch"),
]


@pytest.mark.parametrize(("argv", "words"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_a_bad_value_is_one_line_and_exit_2(argv, words, capsys, user_dirs):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert words in lines[0]
    assert lines[0].startswith("switchboard")
    assert "Traceback" not in captured.err and captured.out == ""


def test_a_directory_given_as_routes_is_called_a_directory(tmp_path, capsys, user_dirs):
    with pytest.raises(SystemExit) as stopped:
        main(["webhook", "--routes", str(tmp_path)])
    assert stopped.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert f"{tmp_path} is a directory" in line
    assert "does not exist" not in line and "missing" not in line
