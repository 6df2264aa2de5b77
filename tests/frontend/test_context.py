"""Anything unforeseen in a page reaches the person as a sentence, never as a traceback."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _page_that_fails() -> None:
    from frontend import context

    @context.guarded
    def render() -> None:
        raise ValueError("the unforeseen")

    render()


def _page_that_stops() -> None:
    import streamlit as st

    from frontend import context

    @context.guarded
    def render() -> None:
        st.write("before")
        st.stop()

    render()
    st.write("after")  # never reached: st.stop passes through the guard


def test_an_unforeseen_error_is_a_sentence() -> None:
    at = AppTest.from_function(_page_that_fails).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Unexpected error (ValueError): the unforeseen"]


def test_streamlits_own_stop_passes_through() -> None:
    at = AppTest.from_function(_page_that_stops).run()
    assert not at.exception and not at.error
    assert [m.value for m in at.markdown] == ["before"]
