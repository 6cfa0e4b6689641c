"""Points one of the account's numbers at this webhook, and puts the old VoiceUrl back later."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.controller import error_text
from console.core.calls.records import PhoneNumber
from console.core.preferences import Preferences
from console.tasks import TaskRunner

if TYPE_CHECKING:
    from console.core.gateways.gateway import Gateway

NUMBER_ROLE = 0x0100 + 7


class RoutingDialog(QDialog):
    """ "Route incoming calls here": sets a number's VoiceUrl to {public}/voice/incoming."""

    def __init__(
        self,
        gateway: Gateway,
        runner: TaskRunner,
        preferences: Preferences,
        public_url: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Route incoming calls here")
        self._gateway, self._runner, self._preferences = gateway, runner, preferences
        self.target = f"{public_url.rstrip('/')}/voice/incoming"
        self.status_target = f"{public_url.rstrip('/')}/voice/status"
        self.numbers = QListWidget(accessibleName="Numbers")
        self.route_button = QPushButton("&Route here", accessibleName="Route here")
        self.restore_button = QPushButton("Re&store previous", accessibleName="Restore previous")
        self.result = QLabel(accessibleName="Routing result", wordWrap=True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        explain = QLabel(f"Calls to the chosen number will ask <b>{self.target}</b> for TwiML.")
        explain.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.route_button)
        row.addWidget(self.restore_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addWidget(self.numbers, 1)
        layout.addLayout(row)
        layout.addWidget(self.result)
        layout.addWidget(close)
        close.rejected.connect(self.reject)
        self.numbers.currentItemChanged.connect(self.on_numbers_current_item_changed)
        self.route_button.clicked.connect(self.on_route_clicked)
        self.restore_button.clicked.connect(self.on_restore_clicked)
        self.resize(560, 320)
        self._busy = True
        self._update_buttons()
        self._runner.submit(self._gateway.list_numbers, self._on_numbers, self._on_error)

    def _number(self) -> PhoneNumber | None:
        item = self.numbers.currentItem()
        return item.data(NUMBER_ROLE) if item is not None else None

    def _show(self, numbers: list[PhoneNumber]) -> None:
        current = self._number()
        self.numbers.clear()
        for number in numbers:
            here = " (routed here)" if number.voice_url == self.target else ""
            now = f"rings {number.voice_url}" if number.voice_url else "no Voice URL yet"
            text = f"{number.number}  {number.friendly_name}{here}\n    {now}"
            item = QListWidgetItem(text)
            item.setData(NUMBER_ROLE, number)
            self.numbers.addItem(item)
            if current is not None and current.sid == number.sid:
                self.numbers.setCurrentItem(item)
        if self.numbers.currentItem() is None and self.numbers.count():
            self.numbers.setCurrentRow(0)

    def _update_buttons(self) -> None:
        number = self._number()
        self.route_button.setEnabled(
            not self._busy and number is not None and number.voice_url != self.target
        )
        self.restore_button.setEnabled(
            not self._busy
            and number is not None
            and bool(self._preferences.previous_voice_url(number.sid))
        )

    def _on_numbers(self, numbers: list[PhoneNumber]) -> None:
        self._busy = False
        self._show(numbers)
        self._update_buttons()

    def _on_error(self, error: object) -> None:
        self._busy = False
        self.result.setText(error_text(error))
        self._update_buttons()

    def _set_url(
        self, number: PhoneNumber, urls: tuple[str, str], done: str, keep: tuple[str, str]
    ) -> None:
        self._busy = True
        self._update_buttons()

        def job() -> list[PhoneNumber]:
            self._gateway.set_voice_url(number.sid, *urls)
            return self._gateway.list_numbers()

        def on_done(numbers: list[PhoneNumber]) -> None:
            self._preferences.remember_voice_url(number.sid, *keep)  # only once it worked
            self.result.setText(done)
            self._on_numbers(numbers)

        self._runner.submit(job, on_done, self._on_error)

    @Slot()
    def on_numbers_current_item_changed(self) -> None:
        self._update_buttons()

    @Slot()
    def on_route_clicked(self) -> None:
        number = self._number()
        if number is None:
            return
        message = f"{number.number} now rings this webhook."
        urls = (self.target, self.status_target)
        self._set_url(number, urls, message, keep=(number.voice_url, number.status_callback))

    @Slot()
    def on_restore_clicked(self) -> None:
        number = self._number()
        previous = self._preferences.previous_voice_url(number.sid) if number else ""
        if number is None or not previous:
            return
        urls = (previous, self._preferences.previous_status_callback(number.sid))
        self._set_url(number, urls, f"{number.number} rings {previous} again.", keep=("", ""))
