"""ChatController: the one place where asyncio (the streams) and Qt (signals, timers) meet.

Each conversation has a session (sessions.py): its draft, its running answer(s), its figures.
Each running answer is an AnswerStream (answer_stream.py), a task on the one asyncio loop;
several stream at once, in several conversations, or side by side in one (compare). The
controller keeps the map and, through StreamHub (stream_hub.py), the ONE frame clock: ~30 times
a second it hands what each stream buffered to the view and lets it save (about once a second,
appending what is new). Until an
answer's first token, a live line says how long it has waited (waiting_note.py). What the
history cannot take is kept and said (history_keeper.py).

A conversation is a tree (core/tree.py): regenerate, edit-and-resend and compare add
siblings, never delete or reorder; what is sent is the active path (request_history.py).
The window's view shows one conversation; signals carry message ids (and conversation ids
where the shell needs them) so nothing lands in the wrong chat.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import overload

from PySide6.QtCore import QObject, Signal

from deltadesk.answer_saving import FinalAnswer
from deltadesk.core.client import ChatClient, RequestOptions
from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.profiles import Profile
from deltadesk.core.store import Message, Store, StoreWriteError
from deltadesk.core.text_safety import replace_lone_surrogates
from deltadesk.live_answer import StreamStats
from deltadesk.request_history import continuation, sendable
from deltadesk.request_settings import ProfileNamed, answering_profile, request_options
from deltadesk.sessions import Session
from deltadesk.stream_hub import FRAME_INTERVAL_MS, StreamHub

log = logging.getLogger(__name__)

TITLE_LENGTH = 60
COMPARE_PROFILES = range(2, 5)  # a compare sends one prompt to 2-4 profiles
CONTINUABLE = frozenset({"stopped", "interrupted"})

__all__ = ["FRAME_INTERVAL_MS", "ChatController", "StreamStats"]


class ChatController(StreamHub):
    """Sessions and what the window asks of them: send, compare, regenerate, edit, continue,
    stop, choose. The conversation in view is the one the window shows.

    Each conversation's settings (core/conversation_settings.py) go with every request of
    it: its profile and model answer (the window's active profile when it names none), and
    its system prompt, temperature, max tokens and reasoning effort are the request options.
    A new chat's settings wait in its session until its first prompt makes the conversation.
    """

    view_changed = Signal(object)  # the conversation now in view (int), or None: a new chat
    settings_changed = Signal(object, object)  # conversation id or None, ConversationSettings

    def __init__(
        self,
        store: Store,
        client_for: Callable[[Profile], ChatClient],
        active_profile: Callable[[], Profile],
        parent: QObject | None = None,
        *,
        profile_named: ProfileNamed | None = None,
    ) -> None:
        super().__init__(store, client_for, parent)
        self._active_profile = active_profile
        self.profile_named = profile_named  # a profile by name (a conversation's choice)

    # -- the conversation in view ----------------------------------------------------------

    @property
    def session(self) -> Session:
        """The session of the conversation in view."""
        return self._in_view

    @property
    def busy(self) -> bool:
        return self._in_view.streaming

    @property
    def stats(self) -> StreamStats:
        """The figures of the latest answer of the conversation in view."""
        return self._in_view.figures or StreamStats()

    @property
    def streaming_message_id(self) -> int | None:
        lead = self._in_view.lead()
        return lead.message_id if lead is not None else None

    def live_text(self, message_id: int | None = None) -> tuple[str, str]:
        """(answer, reasoning) of a streaming message (by default the one the chat in view
        streams) as far as the view has been given them; the rest follows next frame."""
        stream = self._in_view.lead() if message_id is None else self.sessions.stream_of(message_id)
        return stream.shown_so_far() if stream is not None else ("", "")

    def is_streaming(self, message_id: int) -> bool:
        return self.sessions.stream_of(message_id) is not None

    def conversation_streams(self, conversation_id: int) -> bool:
        session = self.sessions.find(conversation_id)
        return session is not None and session.streaming

    def conversation_unseen(self, conversation_id: int) -> bool:
        """An answer of it ended while another conversation was in view."""
        session = self.sessions.find(conversation_id)
        return session is not None and session.unseen

    def unsaved_answer(self, message_id: int) -> FinalAnswer | None:
        """An answer that ended but is not in the history yet: the view shows this instead."""
        return self.history.unsaved_answer(message_id)

    def open_conversation(self, conversation_id: int | None) -> None:
        """The window shows this conversation now (None: a new chat). Nothing running stops."""
        left = self._in_view
        self._in_view = self.sessions.get(conversation_id)
        self.conversation_id = conversation_id
        if self._in_view.unseen:  # seen now
            self._in_view.unseen = False
            self._say_marks(self._in_view)
        if left is not self._in_view:
            self.sessions.drop_if_idle(left.conversation_id)
        self.busy_changed.emit(self._in_view.streaming)
        self.stats_changed.emit(self._in_view.figures)
        self.view_changed.emit(conversation_id)

    # -- settings per conversation -------------------------------------------------------

    def settings_of(self, conversation_id: int | None = None) -> ConversationSettings:
        """The settings of a conversation (None: the new chat's, as far as chosen)."""
        if conversation_id is None:
            return self.sessions.get(None).settings or ConversationSettings()
        session = self.sessions.find(conversation_id)
        if session is not None and session.settings is not None:
            return session.settings  # set in this run (kept even if it could not be saved)
        conversation = self._store.get_conversation(conversation_id)
        return conversation.settings if conversation is not None else ConversationSettings()

    def set_settings(self, conversation_id: int | None, settings: ConversationSettings) -> None:
        """Changes what the conversation's next requests carry (None: the new chat's) and
        keeps it with the conversation; a history that cannot take it is said, and the
        settings still hold for this run."""
        if settings == self.settings_of(conversation_id):
            return
        session = self.sessions.get(conversation_id)
        session.settings = settings
        if conversation_id is not None:
            try:
                self._store.set_conversation_settings(conversation_id, settings)
                session.settings_unsaved = False
            except StoreWriteError as exc:
                session.settings_unsaved = True  # the session is kept while the view moves
                self.history_notice.emit(f"{exc} The chat settings hold until Deltadesk closes.")
        self.settings_changed.emit(conversation_id, settings)

    def answering_profile(self, conversation_id: int | None = None) -> Profile:
        """The profile (with the model) that answers in the conversation next."""
        settings = self.settings_of(conversation_id)
        return answering_profile(settings, self._active_profile(), self.profile_named)

    def forget_conversation(self, conversation_id: int) -> None:
        """It was deleted: its answers are stopped and nothing of it is kept."""
        self.stop(conversation_id)
        self.sessions.forget(conversation_id)

    # -- actions ---------------------------------------------------------------------------

    @overload
    async def send(self, text: str, /) -> str | None: ...
    @overload
    async def send(self, conversation_id: int | None, text: str, /) -> str | None: ...
    async def send(self, where: int | str | None, text: str | None = None, /) -> str | None:
        """Stores the prompt and streams its answer into the conversation (None: a new one;
        left out: the one in view); returns the answer's final status (None if ignored, or
        if the history could not take the prompt, which is said)."""
        if text is None:
            assert isinstance(where, str)
            session, text = self._in_view, where
        else:
            assert not isinstance(where, str)
            session = self.sessions.get(where)
        statuses = await self._ask(session, text, [self._profile_of(session)])
        return statuses[0] if statuses else None

    async def compare(
        self, conversation_id: int | None, text: str, profiles: Sequence[Profile]
    ) -> list[str] | None:
        """One prompt, one answer from each profile (2-4), siblings streamed at once; the
        first is the active branch until another is chosen. Their final statuses."""
        if len(profiles) not in COMPARE_PROFILES:
            return None
        return await self._ask(self.sessions.get(conversation_id), text, profiles)

    async def regenerate(self, message_id: int) -> str | None:
        """A new answer to the same prompt, beside the old one (a sibling: nothing goes)."""
        answer = self._store.get_message(message_id)
        if answer is None or answer.role != "assistant" or answer.parent_id is None:
            return None
        prompt = self._store.get_message(answer.parent_id)
        session = self.sessions.get(answer.conversation_id)
        if prompt is None or session.busy:
            return None
        statuses = await self._answer(session, prompt, [self._profile_of(session)])
        return statuses[0] if statuses else None

    async def retry(self, message_id: int) -> str | None:
        """Retry is regenerate: the failed answer stays, with the new one beside it."""
        return await self.regenerate(message_id)

    async def edit_and_resend(self, message_id: int, text: str) -> str | None:
        """The prompt as edited, a sibling of the old one, and its answer."""
        original = self._store.get_message(message_id)
        text = replace_lone_surrogates(text.strip())
        if original is None or original.role != "user" or not text:
            return None
        session = self.sessions.get(original.conversation_id)
        if session.busy:
            return None
        session.preparing = True
        try:
            prompt = await self.history.write(
                lambda: self._store.add_message(
                    original.conversation_id, "user", text, parent_id=original.parent_id
                )
            )
        finally:
            session.preparing = False
        if prompt is None:
            return None
        self.message_added.emit(prompt)
        statuses = await self._answer(session, prompt, [self._profile_of(session)])
        return statuses[0] if statuses else None

    async def continue_(self, message_id: int) -> str | None:
        """Streams the rest of a stopped or interrupted answer into the same message. The
        request ends with a "continue" turn that is never stored."""
        answer = self._store.get_message(message_id)
        if answer is None or answer.role != "assistant" or answer.status not in CONTINUABLE:
            return None
        session = self.sessions.get(answer.conversation_id)
        if session.busy or self._store.children(message_id):
            return None  # only the end of a branch goes on
        session.preparing = True
        try:
            reopened = await self.history.write(lambda: _reopened(self._store, answer))
        finally:
            session.preparing = False
        if reopened is None:
            return None
        request = continuation(self._store.active_path(answer.conversation_id), answer)
        profile = self._profile_of(session)
        options = self._options(session, profile)
        stream = self._start(session, reopened, profile, request, options)
        self.message_added.emit(reopened)
        return (await self._outcome([stream]))[0]

    def stop(self, conversation_id: int | None = None) -> None:
        """Stops every answer of the conversation (None: the one in view)."""
        session = self._in_view if conversation_id is None else self.sessions.find(conversation_id)
        for stream in list(session.streams.values()) if session is not None else []:
            stream.stop()

    def stop_message(self, message_id: int) -> None:
        """Stops one answer (one column of a compare), the others go on."""
        stream = self.sessions.stream_of(message_id)
        if stream is not None:
            stream.stop()

    def choose(self, message_id: int) -> bool:
        """Makes the path through this message (a compare answer) the active branch."""
        message = self._store.get_message(message_id)
        if message is None:
            return False
        try:
            self._store.switch_branch(message_id)
        except StoreWriteError as exc:
            self.history_notice.emit(str(exc))
            return False
        self.branch_changed.emit(message.conversation_id)
        return True

    # -- starting answers ------------------------------------------------------------------

    def _profile_of(self, session: Session) -> Profile:
        return self.answering_profile(session.conversation_id)

    def _options(self, session: Session, profile: Profile) -> RequestOptions | None:
        return request_options(self.settings_of(session.conversation_id), profile)

    async def _ask(
        self, session: Session, text: str, profiles: Sequence[Profile]
    ) -> list[str] | None:
        """A prompt from the composer, and its answer(s)."""
        text = replace_lone_surrogates(text.strip())  # pasted text can hold a lone one
        if not text or session.busy:
            return None
        session.preparing = True
        try:
            prompt = await self._write_prompt(session, text)
        finally:
            session.preparing = False
        if prompt is None:
            return None
        self.message_added.emit(prompt)
        return await self._answer(session, prompt, profiles)

    async def _write_prompt(self, session: Session, text: str) -> Message | None:
        conversation_id = session.conversation_id
        if conversation_id is None:
            title = " ".join(text.split())[:TITLE_LENGTH]
            settings = session.settings or ConversationSettings()
            conversation = await self.history.write(
                lambda: self._store.create_conversation(title, settings=settings)
            )
            if conversation is None:
                return None
            conversation_id = conversation.id
            self.sessions.adopt(session, conversation_id)
            if session is self._in_view:
                self.conversation_id = conversation_id
                self.conversation_changed.emit(conversation_id)
        return await self.history.write(
            lambda: self._store.add_message(conversation_id, "user", text)
        )

    async def _answer(
        self, session: Session, prompt: Message, profiles: Sequence[Profile]
    ) -> list[str] | None:
        """Answers ``prompt`` from each profile: siblings under it, streamed at once."""
        session.preparing = True
        try:
            answers = await self._add_answers(prompt, profiles)
        finally:
            session.preparing = False
        if not answers:
            return None
        path = self._store.active_path(prompt.conversation_id)
        request = sendable(_before(path, {answer.id for answer, _profile in answers}))
        self.history.starting_answer()
        streams = [
            self._start(session, answer, profile, request, self._options(session, profile))
            for answer, profile in answers
        ]
        if len(answers) > 1:
            self.compare_started.emit(prompt.conversation_id, prompt, [a for a, _p in answers])
        for answer, _profile in answers:
            self.message_added.emit(answer)  # streaming already: the view shows it live
        return await self._outcome(streams)

    async def _add_answers(
        self, prompt: Message, profiles: Sequence[Profile]
    ) -> list[tuple[Message, Profile]]:
        conversation_id = prompt.conversation_id
        answers: list[tuple[Message, Profile]] = []
        for profile in profiles:
            answer = await self.history.write(
                lambda profile=profile: self._store.add_message(  # type: ignore[misc]
                    conversation_id,
                    "assistant",
                    status="streaming",
                    parent_id=prompt.id,
                    profile=profile.name,
                    model=profile.model,
                )
            )
            if answer is None:
                break
            answers.append((answer, profile))
        if len(answers) > 1:  # each new one became the active leaf: the first is shown
            with contextlib.suppress(StoreWriteError):
                self._store.set_active_leaf(conversation_id, answers[0][0].id)
        return answers


def _before(path: Sequence[Message], new_ids: set[int]) -> list[Message]:
    """The path up to the first of the new answers: what they answer."""
    for index, message in enumerate(path):
        if message.id in new_ids:
            return list(path[:index])
    return list(path)


def _reopened(store: Store, answer: Message) -> Message:
    """The answer made the active leaf and streaming again, to be continued."""
    store.set_active_leaf(answer.conversation_id, answer.id)
    store.update_message(answer.id, status="streaming", error_kind=None, error_message=None)
    return replace(answer, status="streaming", error_kind=None, error_message=None)
