"""The status bar: mode, webhook URL and its health, always visible, plus the Log button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar, QWidget

GREEN, RED, GREY, AMBER = "#1e8449", "#c0392b", "#7f8c8d", "#b9770e"
TEAM_STATES = {  # the team stream's state: colour, words, what the tooltip explains
    "connecting": (GREY, "connecting…", "Opening the team server's event stream."),
    "connected": (GREEN, "connected", "Events arrive from the team server as they happen."),
    "reconnecting": (
        AMBER,
        "reconnecting…",
        "The team server is lost; the window shows the last state and refuses actions.",
    ),
    "turned-away": (
        AMBER,
        "turned away…",
        "The team server is up but has no room for this console's event stream now; the "
        "console tries again when it was told to and refuses actions meanwhile.",
    ),
    "refused": (RED, "token refused", "The team server refused this operator's token."),
    "closed": (GREY, "closed", "The event stream is closed."),
}


class ConsoleStatusBar(QStatusBar):
    """Mode · webhook URL · ● health, with transient messages on the left."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = QLabel()
        self.mode.setAccessibleName("Mode")
        self.webhook = QLabel()
        self.webhook.setAccessibleName("Webhook URL")
        self.webhook.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.health = QLabel()
        self.health.setAccessibleName("Webhook health")
        self.log_button = QPushButton("Log")
        self.log_button.setAccessibleName("Log")
        self.log_button.setToolTip("Show or hide the event log (Ctrl+L)")
        self.log_button.setCheckable(True)
        self.log_button.setFlat(True)
        self.upgrade = QProgressBar(accessibleName="Call history upgrade", maximumWidth=160)
        self.upgrade.hide()  # shown while an older history is brought up to date
        for widget in (self.upgrade, self.mode, self.webhook, self.health, self.log_button):
            self.addPermanentWidget(widget)  # a message on the left never hides these
        self.set_health("", checked=False)

    @Slot(int, int)
    def on_bridge_history_progressed(self, done: int, total: int) -> None:
        """An older call history is being upgraded at start-up: say how far, until done."""
        if done >= total:
            self.upgrade.hide()
            self.showMessage(f"Call history ready: {total:,} calls searchable", 10_000)
            return
        self.upgrade.setRange(0, total)
        self.upgrade.setValue(done)
        self.upgrade.show()
        self.showMessage(f"Upgrading the call history: indexing {done:,} of {total:,} calls…")

    def set_starting(self) -> None:
        """Shown until the sandbox or the account and the webhook are ready."""
        self.mode.setText("<b>Starting…</b>")
        self.webhook.setText(" · starting the webhook")

    def set_mode(self, label: str, webhook_url: str, account_sid: str = "") -> None:
        """Show the mode (Sandbox, or Live with the account's name) and the webhook's URL."""
        self.mode.setText(f"<b>{label}</b>")
        self.mode.setToolTip(f"Account {account_sid}" if account_sid else "")
        self.webhook.setVisible(bool(webhook_url))  # team mode: the team server serves it
        self.webhook.setText(f" · webhook {webhook_url}")
        self.webhook.setToolTip("Where Twilio sends this console's calls and callbacks")

    def set_team_state(self, state: str, detail: str = "") -> None:
        """Team mode: ● connected (green), reconnecting or turned away (amber), token refused
        (red)."""
        colour, text, explained = TEAM_STATES.get(state, (GREY, state, ""))
        self.health.setText(f'<span style="color:{colour}">●</span> {text}')
        self.health.setToolTip(f"{explained} {detail}".strip())

    def set_health(self, problem: str, checked: bool = True) -> None:
        """Green when the last check passed, red with the reason when not."""
        if not checked:
            colour, text = GREY, "checking…"
        elif problem:
            colour, text = RED, problem
        else:
            colour, text = GREEN, "healthy"
        self.health.setText(f'<span style="color:{colour}">●</span> {text}')
        self.health.setToolTip(problem or "The webhook answered its health check.")
