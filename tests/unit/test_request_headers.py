"""web.context.RequestHeaders answers as starlette's Headers, from a dict."""

from __future__ import annotations

from starlette.datastructures import Headers

from jobagent_mock.web.context import RequestHeaders


def test_request_headers_answer_as_starlettes() -> None:
    raw = [
        (b"x-requestid", b"first"),
        (b"authorization", b"Bearer abc"),
        (b"x-requestid", b"second"),
        (b"x-latin", "blå".encode("latin-1")),
        (b"Not-Lowered", b"as sent"),
    ]
    ours, theirs = RequestHeaders({"headers": raw}), Headers(raw=raw)
    names = ["x-requestId", "X-REQUESTID", "Authorization", "x-latin", "not-lowered", "absent"]
    for name in names:
        assert ours.get(name) == theirs.get(name)
        assert ours.get(name, "-") == theirs.get(name, "-")
        assert (name in ours) == (name in theirs)
    assert ours["x-requestid"] == theirs["x-requestid"] == "first"
    assert ours.items() == theirs.items()
    ours.items().append(("added", "by a reader"))  # each reader gets a list of its own
    assert ours.items() == theirs.items()
    assert ours.getlist("x-requestid") == ["first", "second"]
