"""The start-up baseline: a bare PySide6 script that shows an empty QMainWindow."""

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.show()
QTimer.singleShot(0, lambda: print("window shown", flush=True))
app.exec()
