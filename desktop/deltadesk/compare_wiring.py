"""Compare in the window: starting a comparison, and showing it again on return to its chat.

A comparison is one prompt's answers from 2-4 profiles, siblings in the tree (controller.py
makes them, the first one the active branch until another is chosen). The compare view shows
them side by side; "Continue with this one" chooses.

The rule for showing it again (kept simple on purpose): a comparison is *open* from its start
until the user decides: an answer is chosen ("Continue with this one"), the user goes "Back to
the chat", or a new prompt goes on from the conversation. While it is open, opening its chat
shows the columns again, whichever of the answers still stream: ended ones with their stored
text, status and figures, running ones with the text so far and then live. Open comparisons
last for the app's run: the history does not record whether one was chosen, so after a
restart the answers are ordinary siblings (◀ 1/3 ▶ in the chat), which they are anyway.
Nothing here decides for the user on time stamps or profile names.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deltadesk.core.store import Message
from deltadesk.message_views import to_message_view

if TYPE_CHECKING:
    from deltadesk.controller import ChatController
    from deltadesk.services import Services
    from deltadesk.ui.main_window import MainWindow

__all__ = ["Comparisons", "OpenComparison", "column_label"]


@dataclass(frozen=True)
class OpenComparison:
    """A comparison not decided yet: its prompt and its answers, in column order."""

    prompt_id: int
    answer_ids: tuple[int, ...]


def column_label(answer: Message) -> str:
    """The column's name: the profile and the model it answered with."""
    return " · ".join(part for part in (answer.profile, answer.model) if part)


class Comparisons:
    """Starts comparisons for the window and shows an open one again when its chat opens."""

    def __init__(
        self,
        services: Services,
        controller: ChatController,
        window: MainWindow,
        run: Callable[[Coroutine[Any, Any, object]], None],
        live_figures: Callable[[int], str | None],
    ) -> None:
        self._services = services
        self._controller = controller
        self._window = window
        self._run = run
        self._live_figures = live_figures  # the last figures line of a streaming answer
        self._open: dict[int, OpenComparison] = {}  # by conversation id
        view = window.compare_view
        window.compare_requested.connect(self.compare)
        view.stop_requested.connect(controller.stop_message)
        view.chosen.connect(self._choose)
        view.dismissed.connect(self._dismiss)
        controller.compare_started.connect(self._on_started)
        controller.message_added.connect(self._on_message_added)
        window.appearance.changed.connect(self._on_theme_changed)

    def compare(self, text: str) -> None:
        """The Compare button: the prompt to each checked profile, side by side."""
        found = (self._services.profiles.get(name) for name in self._window.compare_profiles())
        profiles = [profile for profile in found if profile is not None]
        c = self._controller
        self._run(c.compare(c.conversation_id, text, profiles))

    def open_comparison(self, conversation_id: int) -> OpenComparison | None:
        return self._open.get(conversation_id)

    def forget(self, conversation_id: int) -> None:
        self._open.pop(conversation_id, None)

    def show_again(self, conversation_id: int, *, redraw: bool = False) -> bool:
        """Called when a conversation is opened: its open comparison, if it has one that
        still fits the history (its answers under its prompt, the path ending in one of
        them), is shown in the compare view (drawn anew if `redraw`). True if shown."""
        answers = self._still_open(conversation_id)
        if answers is None:
            return False
        prompt, shown = answers
        c, view = self._controller, self._window.compare_view
        on_screen = self._window.is_comparing() and view.message_ids() == [a.id for a in shown]
        if on_screen and not redraw:
            return True  # on screen already, and live
        view.start([(a.id, column_label(a)) for a in shown], prompt.content)
        for answer in shown:
            if c.is_streaming(answer.id):
                text, reasoning = c.live_text(answer.id)  # the rest follows as it streams
                if reasoning:
                    view.append_reasoning(answer.id, reasoning)
                if text:
                    view.append_text(answer.id, text)
                view.set_figures(answer.id, self._live_figures(answer.id) or "")
            else:
                view.show_ended(to_message_view(answer, c.unsaved_answer(answer.id)))
        self._window.show_compare()
        return True

    def _still_open(self, conversation_id: int) -> tuple[Message, Sequence[Message]] | None:
        comparison = self._open.get(conversation_id)
        if comparison is None:
            return None
        store = self._services.store
        prompt = store.get_message(comparison.prompt_id)
        by_id = {m.id: m for m in store.children(comparison.prompt_id)} if prompt else {}
        answers = [by_id[i] for i in comparison.answer_ids if i in by_id]
        path = store.active_path(conversation_id)
        if prompt is None or len(answers) < 2 or not path or path[-1].id not in by_id:
            self.forget(conversation_id)  # deleted, or the conversation went on elsewhere
            return None
        return prompt, answers

    def _on_theme_changed(self, _palette: str) -> None:
        """Light or dark now: the columns on screen are drawn again in it (the window has
        re-styled the views already; what they show was drawn in the old colours)."""
        conversation_id = self._controller.conversation_id
        if conversation_id is not None and self._window.is_comparing():
            self.show_again(conversation_id, redraw=True)

    def _on_started(self, conversation_id: int, prompt: Message, answers: list[Message]) -> None:
        self._open[conversation_id] = OpenComparison(prompt.id, tuple(a.id for a in answers))
        if conversation_id != self._controller.conversation_id:
            return
        self._window.compare_view.start([(a.id, column_label(a)) for a in answers], prompt.content)
        self._window.show_compare()

    def _choose(self, message_id: int) -> None:
        message = self._services.store.get_message(message_id)
        if message is not None:
            self.forget(message.conversation_id)
        self._controller.choose(message_id)

    def _dismiss(self) -> None:
        conversation_id = self._controller.conversation_id
        if conversation_id is not None:
            self.forget(conversation_id)

    def _on_message_added(self, message: Message) -> None:
        """A new prompt in a conversation goes on from its active branch: the comparison
        there is decided (and the chat, not the columns, shows where it went on)."""
        if message.role != "user" or message.conversation_id not in self._open:
            return
        self.forget(message.conversation_id)
        if message.conversation_id == self._controller.conversation_id:
            self._window.compare_view.clear()
            self._window.show_chat()
