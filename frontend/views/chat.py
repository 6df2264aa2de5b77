"""Agent chat: the negotiation transcript between agents, by conversation, live."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from frontend import context, names, transcript
from frontend.errors import explain

AVATARS = {
    "cfp": ":material/campaign:",
    "propose": ":material/mail:",
    "accept": ":material/check_circle:",
    "decline": ":material/cancel:",
    "inform": ":material/info:",
}

current = context.chain()
api = context.api()
st.title("Agent chat")
if api is None:
    st.stop()
client = api
directory = names.directory(current.history())


@st.fragment(run_every=context.settings().refresh_s)
@context.guarded
def conversation_view() -> None:
    try:
        messages = client.messages()
    except Exception as exc:
        st.error(explain(exc))
        return
    if not messages:
        st.info("No agent has published a message yet.")
        return
    latest: dict[str, int] = {}
    for m in messages:
        latest[m.conversation] = m.seq
    conversations = sorted(latest, key=lambda c: -latest[c])
    chosen = st.selectbox("Conversation", ["all", *conversations], index=0, key="conversation")
    shown = [m for m in messages if chosen in ("all", m.conversation)]
    st.caption(f"{len(shown)} messages · refreshed every {context.settings().refresh_s:g} s")
    for m in shown:
        with st.chat_message(m.performative, avatar=AVATARS.get(m.performative)):
            when = dt.datetime.fromtimestamp(m.sent_ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
            st.markdown(
                f"**{names.name(directory, m.sender)}** → {names.name(directory, m.receiver)} · "
                f"*{m.performative}* · {when} UTC · `{m.conversation}`"
            )
            st.write(str(m.content.get("summary") or m.content))
            details = transcript.facts(m.content)
            if details:
                st.caption(" · ".join(details))
            for reason in transcript.reasons(m.content):
                st.caption(f"why: {reason}")
            if m.tx_hash:
                st.caption(f"on chain: {m.tx_hash}")


conversation_view()
