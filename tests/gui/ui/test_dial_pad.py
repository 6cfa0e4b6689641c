"""DialPad: the real widget, driven by keys and clicks, finds its controls by accessible name."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QLineEdit, QPushButton, QWidget

from console.core.calls.dial_input import DialRequest
from console.core.calls.records import PhoneNumber
from console.ui.dial_pad import DialPad

MAIN = PhoneNumber("PN1", "+15005550006", "Main line")
SUPPORT = PhoneNumber("PN2", "+15005550001", "Support line")


def control(pad: QWidget, kind: type, name: str):
    found = [w for w in pad.findChildren(kind) if w.accessibleName() == name]
    assert len(found) == 1, f"expected one {kind.__name__} named {name!r}, found {len(found)}"
    return found[0]


@pytest.fixture
def pad(qtbot) -> DialPad:
    widget = DialPad(region="US")
    qtbot.addWidget(widget)
    widget.set_numbers([MAIN, SUPPORT])
    widget.set_rooms(["Support", "DailyStandup"])
    return widget


def number(pad):
    return control(pad, QLineEdit, "Number")


def dial_button(pad):
    return control(pad, QPushButton, "Dial")


def error_text(pad) -> str:
    return control(pad, QLabel, "Dial error").text()


def room_field(pad) -> QLineEdit:
    return control(pad, QComboBox, "Room").lineEdit()


def fill_room(qtbot, pad, name="DailyStandup"):
    qtbot.keyClicks(room_field(pad), name)


def test_every_control_is_there_by_name(pad):
    for name in ["Key 1", "Key 5", "Key 9", "Key 0", "Key *", "Key #", "Key +", "Backspace"]:
        assert control(pad, QPushButton, name).isEnabled()
    assert "sip:" in number(pad).placeholderText()
    identity = control(pad, QLineEdit, "Identity")
    assert identity.placeholderText() == "optional: Twilio assigns one"
    assert control(pad, QComboBox, "Room").isEditable()
    assert not control(pad, QComboBox, "From").isEditable()


def test_an_untouched_form_is_quiet_but_cannot_dial(pad):
    assert error_text(pad) == ""
    assert not dial_button(pad).isEnabled()
    assert pad.current_request() is None


def test_typing_a_national_number_formats_it_and_dials_e164(qtbot, pad):
    qtbot.keyClicks(number(pad), "5551234567")
    assert number(pad).text() == "(555) 123-4567"
    assert number(pad).cursorPosition() == len("(555) 123-4567")
    fill_room(qtbot, pad)
    assert pad.current_request() == DialRequest("+15551234567", MAIN.number, "DailyStandup", "")
    assert dial_button(pad).isEnabled()
    assert error_text(pad) == ""


def test_typing_in_the_middle_keeps_the_cursor_by_the_digit_typed(qtbot, pad):
    field = number(pad)
    qtbot.keyClicks(field, "5551234567")
    qtbot.keyClick(field, Qt.Key.Key_Home)
    qtbot.keyClicks(field, "1")
    assert field.text() == "1 (555) 123-4567"
    assert field.cursorPosition() == 1
    qtbot.keyClick(field, Qt.Key.Key_Delete)  # removes the space, the formatter puts it back
    assert field.text() == "1 (555) 123-4567"
    assert field.cursorPosition() == 1
    qtbot.keyClick(field, Qt.Key.Key_End)
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
    assert field.text() == "1 (555) 123-456"
    assert field.cursorPosition() == len(field.text())


def test_the_keys_type_into_the_number_and_backspace_removes_digits(qtbot, pad):
    for key in "+15005550006":
        qtbot.mouseClick(control(pad, QPushButton, f"Key {key}"), Qt.MouseButton.LeftButton)
    assert number(pad).text() == "+1 500-555-0006"
    backspace = control(pad, QPushButton, "Backspace")
    qtbot.mouseClick(backspace, Qt.MouseButton.LeftButton)
    assert number(pad).text() == "+1 500-555-000"
    for _ in range(4):
        qtbot.mouseClick(backspace, Qt.MouseButton.LeftButton)
    assert number(pad).text() == "+1 500-55"  # the dash went with its digit
    for key in "*#":
        qtbot.mouseClick(control(pad, QPushButton, f"Key {key}"), Qt.MouseButton.LeftButton)
    assert number(pad).text().endswith("*#")


def test_keys_and_backspace_replace_a_selection(qtbot, pad):
    field = number(pad)
    qtbot.keyClicks(field, "5551234567")
    field.setSelection(0, 5)  # "(555)"
    qtbot.mouseClick(control(pad, QPushButton, "Key 8"), Qt.MouseButton.LeftButton)
    assert field.text() == "(812) 345-67"  # 8 digits, formatted again
    field.selectAll()
    qtbot.mouseClick(control(pad, QPushButton, "Backspace"), Qt.MouseButton.LeftButton)
    assert field.text() == ""


def test_an_invalid_number_disables_dial_and_says_why(qtbot, pad):
    fill_room(qtbot, pad)
    qtbot.keyClicks(number(pad), "555 12ab")
    assert not dial_button(pad).isEnabled()
    assert "letters" in error_text(pad)
    assert "letters" in number(pad).accessibleDescription()
    number(pad).clear()
    qtbot.keyClicks(number(pad), "12")
    assert "too short" in error_text(pad)
    qtbot.keyClicks(number(pad), "34567890")
    assert error_text(pad) == ""
    assert dial_button(pad).isEnabled()


def test_errors_wait_until_a_field_is_edited(qtbot, pad):
    qtbot.keyClicks(number(pad), "+15551234567")
    assert error_text(pad) == ""  # the room is empty, but nobody touched it yet
    assert not dial_button(pad).isEnabled()
    qtbot.keyClicks(room_field(pad), "x")
    qtbot.keyClick(room_field(pad), Qt.Key.Key_Backspace)
    assert "room name is empty" in error_text(pad)
    assert "room name is empty" in control(pad, QComboBox, "Room").accessibleDescription()
    assert number(pad).accessibleDescription() == ""


def test_enter_dials_from_number_room_and_identity(qtbot, pad):
    fill_room(qtbot, pad)
    qtbot.keyClicks(control(pad, QLineEdit, "Identity"), "alice")
    qtbot.keyClicks(number(pad), "+15551234567")
    expected = DialRequest("+15551234567", MAIN.number, "DailyStandup", "alice")
    for field in [number(pad), room_field(pad), control(pad, QLineEdit, "Identity")]:
        with qtbot.waitSignal(pad.dial_requested, timeout=1000) as blocker:
            qtbot.keyClick(field, Qt.Key.Key_Return)
        assert blocker.args == [expected]
        assert not dial_button(pad).isEnabled()
        assert dial_button(pad).text() == "Dialing…"
        pad.set_busy(False)
        assert dial_button(pad).isEnabled()


def test_enter_on_an_incomplete_form_dials_nothing_and_shows_the_error(qtbot, pad):
    emitted = []
    pad.dial_requested.connect(emitted.append)
    qtbot.keyClicks(number(pad), "+15551234567")
    qtbot.keyClick(number(pad), Qt.Key.Key_Return)
    assert emitted == []
    assert "room name is empty" in error_text(pad)


def test_double_click_and_double_enter_dial_only_once(qtbot, pad):
    emitted = []
    pad.dial_requested.connect(emitted.append)
    fill_room(qtbot, pad)
    qtbot.keyClicks(number(pad), "+15551234567")
    qtbot.mouseDClick(dial_button(pad), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dial_button(pad), Qt.MouseButton.LeftButton)
    assert len(emitted) == 1
    pad.set_busy(False)
    qtbot.keyClick(number(pad), Qt.Key.Key_Return)
    qtbot.keyClick(number(pad), Qt.Key.Key_Return)
    pad.dial()
    assert len(emitted) == 2
    assert emitted[0] == emitted[1] == pad.current_request()


def test_busy_disables_dial_until_released(qtbot, pad):
    fill_room(qtbot, pad)
    qtbot.keyClicks(number(pad), "+15551234567")
    pad.set_busy(True)
    assert not dial_button(pad).isEnabled()
    pad.set_busy(False)
    assert dial_button(pad).isEnabled()


def test_set_numbers_keeps_the_choice_and_shows_names(qtbot, pad):
    from_box = control(pad, QComboBox, "From")
    assert from_box.currentData() == MAIN.number
    assert "Main line" in from_box.currentText()
    from_box.setCurrentIndex(1)
    extra = PhoneNumber("PN3", "+15005550002", "(500) 555-0002")
    pad.set_numbers([extra, MAIN, SUPPORT])
    assert from_box.currentData() == SUPPORT.number
    assert from_box.itemText(0) == "+1 500-555-0002"  # a friendly name that is the number
    pad.set_numbers([extra, MAIN])
    assert from_box.currentData() == extra.number
    pad.set_numbers([])
    fill_room(qtbot, pad)
    qtbot.keyClicks(number(pad), "+15551234567")
    assert not dial_button(pad).isEnabled()
    assert error_text(pad).startswith("Choose a caller ID")


def test_set_rooms_sorts_and_keeps_what_the_operator_typed(qtbot, pad):
    room = control(pad, QComboBox, "Room")
    assert [room.itemText(i) for i in range(room.count())] == ["DailyStandup", "Support"]
    qtbot.keyClicks(room_field(pad), "NewRo")
    pad.set_rooms(["zeta", "Alpha", "Support"])
    assert room.currentText() == "NewRo"
    assert [room.itemText(i) for i in range(room.count())] == ["Alpha", "Support", "zeta"]
    qtbot.keyClicks(room_field(pad), "om")
    assert room.currentText() == "NewRoom"
    pad.set_room("Support")
    assert room.currentText() == "Support"


def test_a_sip_address_is_accepted_as_typed(qtbot, pad):
    fill_room(qtbot, pad)
    qtbot.keyClicks(number(pad), "SIP:alice@example.com;transport=tls")
    assert number(pad).text() == "SIP:alice@example.com;transport=tls"
    assert pad.current_request().to == "sip:alice@example.com;transport=tls"
    assert dial_button(pad).isEnabled()


def test_show_error_marks_the_field_until_it_is_edited(qtbot, pad):
    fill_room(qtbot, pad)
    qtbot.keyClicks(number(pad), "+15551234567")
    pad.show_error("number", "Twilio error 21211: 'To' is not a valid phone number.")
    assert "21211" in error_text(pad)
    assert "21211" in number(pad).accessibleDescription()
    qtbot.keyClicks(room_field(pad), "2")
    assert "21211" in error_text(pad)  # editing another field keeps it
    qtbot.keyClicks(number(pad), "8")
    assert error_text(pad) == "The number is too long."
    pad.show_error("room", "Room is full (53105).")
    pad.clear_error()
    assert error_text(pad) == "The number is too long."


def test_digits_typed_elsewhere_in_the_pad_go_to_the_number(qtbot, pad):
    qtbot.keyClicks(dial_button(pad), "555")
    qtbot.keyClicks(control(pad, QComboBox, "From"), "123")
    qtbot.keyClick(dial_button(pad), Qt.Key.Key_Backspace)
    assert number(pad).text() == "555-12"
    assert control(pad, QComboBox, "From").currentData() == MAIN.number
    qtbot.keyClicks(control(pad, QLineEdit, "Identity"), "bob-2")
    qtbot.keyClicks(room_field(pad), "R1")
    assert control(pad, QLineEdit, "Identity").text() == "bob-2"
    assert room_field(pad).text() == "R1"
    assert number(pad).text() == "555-12"


def test_tab_goes_number_from_room_identity_dial(qtbot, pad):
    fill_room(qtbot, pad)
    qtbot.keyClicks(number(pad), "+15551234567")
    pad.show()
    qtbot.waitExposed(pad)
    pad.activateWindow()
    number(pad).setFocus()
    qtbot.waitUntil(number(pad).hasFocus)
    order = []
    for _ in range(4):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        order.append(focused.accessibleName() or focused.parent().accessibleName())
    assert order == ["From", "Room", "Identity", "Dial"]


def test_set_region_reformats_for_that_country(qtbot, pad):
    qtbot.keyClicks(number(pad), "02079460018")
    pad.set_region("GB")
    assert number(pad).text() == "020 7946 0018"
    fill_room(qtbot, pad)
    assert pad.current_request().to == "+442079460018"


def test_render_offscreen(qtbot, pad, tmp_path):
    qtbot.keyClicks(number(pad), "5551234567")
    pad.resize(320, pad.sizeHint().height())
    image = pad.grab()
    assert image.width() == 320
    assert image.save(str(tmp_path / "dial_pad.png"))
