"""The settings dialog's "Advanced" group: waits, retries, usage, thinking, the answer cap,
and how a chat's settings are sent (under which name max tokens go; whether the endpoint takes
a reasoning effort).

The first-token limit reads 0 as "Automatic": 300 s for a self-hosted or local server (which
may load a model for a minute before it says anything), 120 s for a hosted one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from deltadesk.core.profiles import (
    FIRST_TOKEN_LIMIT_HOSTED_S,
    FIRST_TOKEN_LIMIT_LOCAL_S,
    Profile,
)
from deltadesk.ui.plain_text import one_line, plain_label

AUTOMATIC_TEXT = (
    f"Automatic ({FIRST_TOKEN_LIMIT_LOCAL_S:.0f} s local"
    f" / {FIRST_TOKEN_LIMIT_HOSTED_S:.0f} s hosted)"
)
CHARS_PER_MB = 1_000_000  # the cap counts characters; "MB of text" is how people think of it
ASK_AGAIN_TEXT = "Ask for usa&ge again"

UsageRefusals = Callable[[Profile], list[str]]
ResetUsageRefusals = Callable[[Profile], None]


def new_form() -> QFormLayout:
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setHorizontalSpacing(10)
    form.setVerticalSpacing(8)
    return form


def add_row(form: QFormLayout, text: str, row: QWidget, buddy: QWidget) -> None:
    label = QLabel(text)
    label.setBuddy(buddy)
    form.addRow(label, row)


def seconds_spin(minimum: float, maximum: float, tooltip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(minimum, maximum)
    spin.setDecimals(1)
    spin.setSingleStep(1.0)
    spin.setSuffix(" s")
    spin.setToolTip(tooltip)
    spin.setAlignment(Qt.AlignmentFlag.AlignRight)
    return spin


class AdvancedSettings(QGroupBox):
    """Loads a profile's advanced fields and writes them back into a copy of it."""

    def __init__(
        self,
        *,
        usage_refusals: UsageRefusals | None = None,
        reset_usage_refusals: ResetUsageRefusals | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Advanced", parent)
        self._usage_refusals = usage_refusals
        self._reset_usage_refusals = reset_usage_refusals
        self._shown: Profile | None = None
        self._loaded: dict[str, float] = {}  # each number field as its spin box showed it
        self._create_widgets()
        self._build_layout()
        self.ask_again_button.clicked.connect(self._ask_for_usage_again)

    def _create_widgets(self) -> None:
        self.first_token_spin = seconds_spin(
            0.0, 3600.0, "Longest wait for the first token; the request is not retried after it"
        )
        self.first_token_spin.setSpecialValueText(AUTOMATIC_TEXT)
        self.idle_spin = seconds_spin(1.0, 3600.0, "Longest silence between two chunks")
        self.connect_spin = seconds_spin(1.0, 300.0, "Longest wait to open the connection")
        self.attempts_spin = QSpinBox()
        self.attempts_spin.setRange(1, 10)
        self.attempts_spin.setToolTip("Tries before the first token arrives (1 = no retry)")
        self.cap_spin = QDoubleSpinBox()
        self.cap_spin.setRange(0.1, 1000.0)
        self.cap_spin.setDecimals(1)
        self.cap_spin.setSuffix(" MB of text")
        self.cap_spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.cap_spin.setToolTip("An answer longer than this is stopped; its text is kept")
        self.local_check = QCheckBox("Self-h&osted model server")
        self.local_check.setToolTip(
            "Ollama, LM Studio, vLLM, llama.cpp…: the first token may wait for a model to load"
        )
        self.usage_check = QCheckBox("Include &usage (token counts)")
        self.usage_check.setToolTip("Ask for token counts; turn off if the provider rejects it")
        self.thinking_check = QCheckBox("T&hinking (reasoning)")
        self.thinking_check.setToolTip("Ask reasoning models to think before they answer")
        self.max_tokens_field_combo = QComboBox()
        self.max_tokens_field_combo.addItem("max_tokens (most servers)", "max_tokens")
        self.max_tokens_field_combo.addItem(
            "max_completion_tokens (OpenAI reasoning models)", "max_completion_tokens"
        )
        self.max_tokens_field_combo.setToolTip(
            "The name under which a chat's max tokens are sent; OpenAI's o-series and GPT-5 "
            "refuse max_tokens"
        )
        self.reasoning_effort_check = QCheckBox("Reasoning effort adjustable per &chat")
        self.reasoning_effort_check.setToolTip(
            "The endpoint takes reasoning_effort (low, medium, high): chats may set it"
        )
        self.refusals_label = plain_label()
        self.refusals_label.setWordWrap(True)
        self.ask_again_button = QPushButton(ASK_AGAIN_TEXT)
        self.ask_again_button.setAutoDefault(False)
        self.ask_again_button.setToolTip(
            "Ask these models for token counts again (takes effect at once)"
        )

    def _build_layout(self) -> None:
        form = new_form()
        add_row(form, "F&irst-token limit:", self.first_token_spin, self.first_token_spin)
        add_row(form, "Id&le timeout:", self.idle_spin, self.idle_spin)
        add_row(form, "Connect &timeout:", self.connect_spin, self.connect_spin)
        add_row(form, "Attempt&s:", self.attempts_spin, self.attempts_spin)
        add_row(form, "Ans&wer-size cap:", self.cap_spin, self.cap_spin)
        form.addRow("", self.local_check)
        form.addRow("", self.usage_check)
        form.addRow("", self.thinking_check)
        fields = self.max_tokens_field_combo
        add_row(form, "Ma&x tokens sent as:", fields, fields)
        form.addRow("", self.reasoning_effort_check)
        self._refusals_row = QWidget()
        row = QHBoxLayout(self._refusals_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.refusals_label, 1)
        row.addWidget(self.ask_again_button)
        form.addRow("", self._refusals_row)
        self._refusals_row.hide()
        self.setLayout(form)

    def focus_chain(self) -> list[QWidget]:
        return [
            self.first_token_spin,
            self.idle_spin,
            self.connect_spin,
            self.attempts_spin,
            self.cap_spin,
            self.local_check,
            self.usage_check,
            self.thinking_check,
            self.max_tokens_field_combo,
            self.reasoning_effort_check,
            self.ask_again_button,
        ]

    def _number_fields(self) -> dict[str, tuple[QSpinBox | QDoubleSpinBox, float]]:
        """Profile field -> (its spin box, how many field units one spin box unit is)."""
        return {
            "first_chunk_timeout": (self.first_token_spin, 1),
            "idle_timeout": (self.idle_spin, 1),
            "connect_timeout": (self.connect_spin, 1),
            "max_attempts": (self.attempts_spin, 1),
            "max_answer_chars": (self.cap_spin, CHARS_PER_MB),
        }

    def load(self, profile: Profile) -> None:
        self._shown = profile
        for name, (spin, unit) in self._number_fields().items():
            value = getattr(profile, name) / unit
            spin.setValue(round(value) if isinstance(spin, QSpinBox) else value)
            self._loaded[name] = spin.value()
        self.local_check.setChecked(profile.local_server)
        self.usage_check.setChecked(profile.include_usage)
        self.thinking_check.setChecked(profile.thinking)
        field = self.max_tokens_field_combo.findData(profile.max_tokens_field)
        self.max_tokens_field_combo.setCurrentIndex(max(0, field))
        self.reasoning_effort_check.setChecked(profile.accepts_reasoning_effort)
        self.show_refusals(profile)

    def apply(self, profile: Profile) -> Profile:
        """`profile` with the advanced fields as the form shows them.

        A number the user did not change keeps its stored value: a spin box rounds and clamps
        (a hand-edited 7200 s timeout, a cap of 12,345,678 characters), and pressing OK must
        not quietly rewrite what the file holds.
        """
        numbers: dict[str, float | int] = {}
        for name, (spin, unit) in self._number_fields().items():
            if spin.value() != self._loaded.get(name):
                value = spin.value() * unit
                numbers[name] = round(value) if isinstance(getattr(profile, name), int) else value
        return replace(
            profile,
            **numbers,  # type: ignore[arg-type]
            local_server=self.local_check.isChecked(),
            include_usage=self.usage_check.isChecked(),
            thinking=self.thinking_check.isChecked(),
            max_tokens_field=self.max_tokens_field_combo.currentData(),
            accepts_reasoning_effort=self.reasoning_effort_check.isChecked(),
        )

    def show_refusals(self, profile: Profile) -> None:
        """The models at this profile's endpoint that refused to report usage, if any."""
        self._shown = profile
        models = self._usage_refusals(profile) if self._usage_refusals is not None else []
        if models and self._reset_usage_refusals is not None:
            names = one_line(", ".join(models), 500)
            self.refusals_label.setText(f"Usage not reported by: {names}")
            self._refusals_row.show()
        else:
            self.refusals_label.clear()
            self._refusals_row.hide()

    def _ask_for_usage_again(self) -> None:
        if self._shown is None or self._reset_usage_refusals is None:
            return
        self._reset_usage_refusals(self._shown)
        self.show_refusals(self._shown)
