"""Hostile HTTP requests against a real llamanet-node (issue 13 item 2).

Usage: hostile_requests_test.py NODE_BIN TINY_MODEL

Each case sends raw bytes on a new TCP connection and says which outcomes are acceptable (HTTP
statuses, or "closed" where closing without an answer is fine). Every answer must carry
X-Content-Type-Options: nosniff; every error body must be UTF-8 JSON in its route's shape
(native {"detail"}, /v1/* {"error": {message, type, param, code}}) without echoed control
bytes. After each case a normal GET /health and POST /generate must succeed on the same node
and the process must be alive; a node that died is restarted on new ports and the case fails,
so one run lists every failing case. One line per case, then "N passed, N failed".
"""
import gzip
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_node import (node_and_model, NodeProcess, error_shape_problem, exchange, node_flags, request_bytes)  # noqa: E402

BODY_LIMIT = 65536
API_KEY = "hostile-test-key"
BAD = b"@@BAD@@"          # replaced by invalid UTF-8 in a JSON text
TIME_BUDGET = 85.0        # seconds for the whole run; cases past it fail as not run


class Case:
    def __init__(self, name, data, ok, shape=None, node="main", half_close=False, responses=1, head_only=False,
                 check=None, pieces=None, timeout=5.0, path=None, needs=None):
        self.name = name
        self.data = data
        self.ok = set(ok)
        self.node = node
        self.half_close = half_close
        self.responses = responses
        self.head_only = head_only
        self.check = check
        self.pieces = pieces
        self.timeout = timeout
        self.needs = needs
        if shape is None:
            shape = "openai" if (path or "").startswith("/v1") else "native" if path else "any"
        self.shape = shape


def bad_json(obj, bad=b"\xff\xfe"):
    """JSON text of obj with every "@@BAD@@" inside its strings replaced by `bad` bytes."""
    return json.dumps(obj).encode().replace(BAD, bad)


def post(path, body, headers=None, **kw):
    return request_bytes("POST", path, body=body, headers=headers, **kw)


def get(path, headers=None, **kw):
    return request_bytes("GET", path, headers=headers, **kw)


def chunked(path, chunks, extra_headers=b"", terminate=True):
    head = (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n" + extra_headers + b"Connection: close\r\n\r\n")
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
    return head + body + (b"0\r\n\r\n" if terminate else b"")


def no_passwd(ex):
    for r in ex.responses:
        if b"root:" in r.body:
            return "the body leaks a file outside the web UI"
    return None


def no_echo(marker):
    def check(ex):
        for r in ex.responses:
            if marker in r.body:
                return "the request is echoed back"
        return None
    return check


def head_has_no_body(ex):
    if ex.first is not None and ex.raw.split(b"\r\n\r\n", 1)[1:] not in ([b""], []):
        return "a HEAD answer carries a body"
    return None


def pipelined(expect):
    """Answers in order: expect is a list of (acceptable statuses, bytes the body must hold)."""
    def check(ex):
        got = [r.status for r in ex.responses]
        if len(got) < len(expect):
            return "only %d of %d pipelined answers (%s), connection %s" % (len(got), len(expect), got, ex.end)
        for i, (ok, needle) in enumerate(expect):
            r = ex.responses[i]
            if r.status not in ok or (needle and needle not in r.body):
                return "pipelined answer %d is %d %r, want %s holding %r" % (i, r.status, r.body[:60], sorted(ok), needle)
        return None
    return check


def build_cases(model):
    native = {"prompt": "Hello", "max_tokens": 2}
    compl = {"model": model, "prompt": "Hello", "max_tokens": 2}
    chat = {"model": model, "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 2}
    embed = {"model": model, "input": "Hello"}
    E4 = {400, 422}
    cases = []

    def add(*a, **kw):
        cases.append(Case(*a, **kw))

    # --- Invalid UTF-8 and NUL in the path, query and headers.
    add("path %ff", get("/%ff"), {400, 404}, path="/")
    add("path %ff%fe%c0%af", get("/%ff%fe%c0%af"), {400, 404}, path="/")
    add("path raw 0xff", get(b"/\xff\xfe"), {400, 404}, path="/")
    add("path /v1/%ff", get("/v1/%ff"), {400, 404}, path="/v1")
    add("model id %ff", get("/v1/models/%ff%fe"), {400, 404}, path="/v1")
    add("model id raw 0xff", get(b"/v1/models/\xff"), {400, 404}, path="/v1")
    add("static %ff", get("/static/%ff.js"), {400, 404}, path="/static")
    add("query %ff", get("/health?x=%ff&%fe=1"), {200, 400}, path="/health")
    add("query raw 0xff", get(b"/health?\xff=\xfe"), {200, 400}, path="/health")
    add("query %ff on /generate", post("/generate?%ff=%ff", native), {200, 400}, path="/generate")
    add("header value raw 0xff", get("/status", [("X-Test", b"\xff\xfe\xc0\xaf")]), {200, 400}, path="/status")
    add("header name raw 0xff", get("/status", [(b"X-\xff\xfe", "1")]), {200, 400}, path="/status")
    add("content-type raw 0xff", post("/generate", native, [("X-Charset", b"\xff")]), {200, 400}, path="/generate")
    add("path %00", get("/health%00"), {400, 404}, path="/")
    add("path raw NUL", get(b"/hea\x00lth"), {400, 404}, path="/")
    add("header value NUL", get("/status", [("X-Test", b"a\x00b")]), {200, 400}, path="/status")
    add("header name NUL", get("/status", [(b"X-\x00Test", "1")]), {200, 400}, path="/status")
    add("HEAD /%ff", request_bytes("HEAD", "/%ff"), {400, 404}, head_only=True, check=head_has_no_body, path="/")

    # --- Invalid UTF-8 in every JSON string field.
    fields = [
        ("/generate", dict(native, prompt="x@@BAD@@y"), "prompt"),
        ("/generate", dict(native, stop="@@BAD@@"), "stop"),
        ("/generate", dict(native, stop=["a", "@@BAD@@"]), "stop[]"),
        ("/generate", dict(native, **{"@@BAD@@": 1}), "a key"),
        ("/generate/stream", dict(native, prompt="@@BAD@@"), "prompt"),
        ("/generate/stream", dict(native, stop="@@BAD@@"), "stop"),
        ("/v1/completions", dict(compl, prompt="@@BAD@@"), "prompt"),
        ("/v1/completions", dict(compl, prompt=["ok", "@@BAD@@"]), "prompt[]"),
        ("/v1/completions", dict(compl, model="@@BAD@@"), "model"),
        ("/v1/completions", dict(compl, stop="@@BAD@@"), "stop"),
        ("/v1/completions", dict(compl, user="@@BAD@@"), "user"),
        ("/v1/completions", dict(compl, prompt="@@BAD@@", stream=True), "prompt (stream)"),
        ("/v1/chat/completions", dict(chat, messages=[{"role": "@@BAD@@", "content": "hi"}]), "messages[].role"),
        ("/v1/chat/completions", dict(chat, messages=[{"role": "user", "content": "@@BAD@@"}]), "messages[].content"),
        ("/v1/chat/completions", dict(chat, messages=[{"role": "user", "content": [{"type": "text", "text": "@@BAD@@"}]}]),
         "content[].text"),
        ("/v1/chat/completions", dict(chat, messages=[{"role": "user", "content": [{"type": "@@BAD@@", "text": "a"}]}]),
         "content[].type"),
        ("/v1/chat/completions", dict(chat, model="@@BAD@@"), "model"),
        ("/v1/chat/completions", dict(chat, stop=["@@BAD@@"]), "stop"),
        ("/v1/chat/completions", dict(chat, user="@@BAD@@"), "user"),
        ("/v1/chat/completions", dict(chat, messages=[{"role": "user", "content": "@@BAD@@"}], stream=True),
         "content (stream)"),
        ("/v1/embeddings", dict(embed, input="@@BAD@@"), "input"),
        ("/v1/embeddings", dict(embed, input=["ok", "@@BAD@@"]), "input[]"),
        ("/v1/embeddings", dict(embed, model="@@BAD@@"), "model"),
        ("/v1/embeddings", dict(embed, user="@@BAD@@"), "user"),
        ("/v1/embeddings", dict(embed, encoding_format="@@BAD@@"), "encoding_format"),
        ("/v1/embeddings", dict(embed, **{"@@BAD@@": 1}), "a key"),
    ]
    for path, obj, field in fields:
        add("0xff in %s %s" % (path, field), post(path, bad_json(obj)), E4, path=path)
    add("overlong UTF-8 in prompt", post("/generate", bad_json(dict(native, prompt="@@BAD@@"), b"\xc0\xaf")), E4,
        path="/generate")
    add("raw surrogate in role", post("/v1/chat/completions",
                                      bad_json(dict(chat, messages=[{"role": "@@BAD@@", "content": "a"}]), b"\xed\xa0\x80")),
        E4, path="/v1")
    add("escaped lone surrogate in prompt", post("/generate", b'{"prompt":"a\\ud800b","max_tokens":2}'),
        {200, 400, 422}, path="/generate")
    add("escaped lone surrogate in role", post("/v1/chat/completions", json.dumps(chat).encode().replace(
        b'"role": "user"', b'"role": "\\udfff"')), {400}, path="/v1")
    add("escaped NUL in role", post("/v1/chat/completions", json.dumps(chat).encode().replace(
        b'"role": "user"', b'"role": "us\\u0000er"')), {400}, path="/v1")
    add("literal %ff in prompt", post("/generate", dict(native, prompt="%ff%fe")), {200}, path="/generate")

    # --- NUL bytes in bodies.
    add("raw NUL between JSON tokens", post("/generate", b'{"prompt":"hi",\x00"max_tokens":2}'), E4, path="/generate")
    add("raw NUL inside a JSON string", post("/generate", b'{"prompt":"h\x00i","max_tokens":2}'), E4, path="/generate")
    add("escaped NUL in prompt", post("/generate", b'{"prompt":"h\\u0000i","max_tokens":2}'), {200, 400, 422},
        path="/generate")

    # --- Sizes of the head.
    add("64 KiB request line", get("/" + "a" * 65536), {414, 431}, path="/")
    add("64 KiB query", get("/health?q=" + "a" * 65536), {414, 431}, path="/health")
    add("1,000 headers", get("/health", [("X-H%d" % i, "v") for i in range(1000)]), {431}, path="/health")
    add("64 KiB header value", get("/health", [("X-Big", "v" * 65536)]), {431}, path="/health")
    add("20 KiB header name", get("/health", [("X-" + "n" * 20480, "v")]), {431}, path="/health")
    add("8 KiB method", request_bytes("M" * 8192, "/health"), {400, 405, 431, 501}, path="/health")

    # --- Range.
    add("100-part Range on /", get("/", [("Range", "bytes=" + ",".join("%d-%d" % (i * 2, i * 2) for i in range(100)))]),
        {416}, path="/")
    add("2-part Range on /", get("/", [("Range", "bytes=0-1,4-5")]), {416}, path="/")
    add("100 overlapping ranges on /", get("/", [("Range", "bytes=" + ",".join(["0-"] * 100))]), {416}, path="/")
    add("100-part Range on /v1/models", get("/v1/models", [("Range", "bytes=" + ",".join(["0-0"] * 100))]),
        {200, 416}, path="/v1")
    add("Range past 2^64", get("/", [("Range", "bytes=0-99999999999999999999999")]), {200, 206, 416}, path="/")
    add("Range garbage", get("/", [("Range", "bytes=abc")]), {200, 416}, path="/")

    # --- Body framing.
    mib = [b"[" + b" " * 8190 + b"]"] * 128
    add("1 MiB chunked over the limit", chunked("/generate", mib), {413}, path="/generate", needs="--max-body-bytes",
        timeout=8)
    add("1 MiB chunked over the limit (/v1)", chunked("/v1/chat/completions", mib), {413}, path="/v1",
        needs="--max-body-bytes", timeout=8)
    add("Content-Length 1 MiB, no body sent", b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1048576\r\n\r\n", {413}, path="/generate", needs="--max-body-bytes")
    add("truncated chunked body", chunked("/generate", [b'{"prompt":"Hel'], terminate=False), {400, 408, "closed"},
        half_close=True, path="/generate")
    add("truncated chunk", chunked("/generate", [], terminate=False) + b"40\r\n{\"prompt\"", {400, 408, "closed"},
        half_close=True, path="/generate")
    add("chunk size not hex", chunked("/generate", [], terminate=False) + b"zz\r\nabc\r\n0\r\n\r\n", {400, "closed"},
        half_close=True, path="/generate")
    add("chunk size 2^80", chunked("/generate", [], terminate=False) + b"ffffffffffffffffffff\r\nabc\r\n",
        {400, 413, "closed"}, half_close=True, path="/generate")
    add("chunk size negative", chunked("/generate", [], terminate=False) + b"-5\r\nabc\r\n", {400, "closed"},
        half_close=True, path="/generate")
    # A chunk-size line (extensions included) is read up to 64 KiB and its extensions ignored: this
    # body is then "abcde", not JSON (422); one line past the cap is refused.
    add("60 KiB chunk extension", chunked("/generate", [], terminate=False) + b"5;" + b"e" * 61440 + b"\r\nabcde\r\n0\r\n\r\n",
        {400, 413, 422, 431, "closed"}, half_close=True, path="/generate")
    add("70 KiB chunk extension", chunked("/generate", [], terminate=False) + b"5;" + b"e" * 71680 + b"\r\nabcde\r\n0\r\n\r\n",
        {400, 413, 431, "closed"}, half_close=True, path="/generate")
    add("1,000 chunked trailers", chunked("/generate", [json.dumps(native).encode()], terminate=False) + b"0\r\n" +
        b"".join(b"X-T%d: v\r\n" % i for i in range(1000)) + b"\r\n", {200, 400, 413, 431, "closed"},
        path="/generate")
    add("valid chunked body", chunked("/generate", [b'{"prompt":', b'"Hello",', b'"max_tokens":2}']), {200},
        path="/generate")
    add("Content-Length and chunked together", b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + b"%x\r\n%s\r\n0\r\n\r\n" % (
            len(json.dumps(native)), json.dumps(native).encode()), {200, 400, "closed"}, path="/generate")
    add("Transfer-Encoding gzip", b"POST /generate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
        b"Connection: close\r\n\r\nabc", {400, 411, 501, "closed"}, half_close=True, path="/generate")
    add("Content-Length larger than body", b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n"
        b"Connection: close\r\n\r\n{\"prompt\":\"hi\"}", {400, 408, "closed"}, half_close=True, path="/generate")
    body = json.dumps(native).encode()
    add("Content-Length smaller than body", b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n%sGARBAGE-AFTER-THE-BODY" % (len(body), body), {200, 400, 422}, path="/generate")
    add("Content-Length negative", b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n"
        b"Connection: close\r\n\r\n{}", {400, 411, "closed"}, half_close=True, path="/generate")
    add("Content-Length 2^80", b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 1208925819614629174706176\r\n"
        b"Connection: close\r\n\r\n{}", {400, 413, "closed"}, half_close=True, path="/generate")
    add("Content-Length not a number", b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n"
        b"Connection: close\r\n\r\n{}", {400, "closed"}, half_close=True, path="/generate")
    add("two different Content-Lengths", b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        b"Content-Length: 40\r\nConnection: close\r\n\r\n{}", {400, "closed"}, half_close=True, path="/generate")
    add("body with no length", b"POST /generate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + body,
        {400, 411, 422, "closed"}, half_close=True, path="/generate")
    bomb = gzip.compress(bytes(32 << 20), 9)
    add("gzip bomb (32 MiB of zeros)", post("/generate", bomb, [("Content-Encoding", "gzip")]), {400, 413, 415},
        path="/generate")
    add("deflate garbage", post("/generate", b"\x00garbage\xff" * 8, [("Content-Encoding", "deflate")]),
        {400, 415}, path="/generate")

    # --- JSON shapes.
    deep = 10000
    add("prompt nested 10,000 deep", post("/generate", b'{"max_tokens":2,"prompt":' + b"[" * deep + b"]" * deep + b"}"),
        E4, path="/generate")
    add("object nested 10,000 deep", post("/generate", b'{"prompt":"hi","x":' + b'{"a":' * deep + b"1" + b"}" * deep +
                                          b"}"), {200, 400, 422}, path="/generate")
    add("content nested 10,000 deep", post("/v1/chat/completions", json.dumps(chat).encode().replace(
        b'"content": "Hello"', b'"content": ' + b"[" * deep + b"]" * deep)), {400}, path="/v1")
    add("body nested 30,000 deep", post("/v1/completions", b"[" * 30000 + b"]" * 30000), {400}, path="/v1")
    add("unclosed 30,000 deep", post("/generate", b"[" * 30000), E4, path="/generate")
    add("empty body", post("/generate", b""), E4, path="/generate")
    for text in (b"null", b"[]", b'"text"', b"123", b"{", b'{"prompt":"hi"} trailing', b'{"prompt":"hi" /* c */}'):
        add("body %s" % text.decode(), post("/v1/completions", text), {400}, path="/v1")
    add("byte order mark", post("/generate", b"\xef\xbb\xbf" + body), {200, 400, 422}, path="/generate")
    add("number with 10,000 digits", post("/generate", b'{"prompt":"hi","max_tokens":1' + b"0" * 10000 + b"}"), E4,
        path="/generate")
    add("10,000 stop strings", post("/generate", dict(native, stop=["a"] * 10000)), {200, 400, 422}, path="/generate")
    add("input nested 10,000 deep", post("/v1/embeddings", json.dumps(embed).encode().replace(
        b'"input": "Hello"', b'"input": ' + b"[" * deep + b"]" * deep)), {400}, path="/v1")
    add("an unknown key of 10,000 bytes", post("/v1/embeddings", dict(embed, **{"k" * 10000: 1})), {400}, path="/v1",
        check=lambda ex: None if len(ex.responses[0].body) < 2048 else "the error echoes the whole key")
    add("escaped NUL in an unknown key", post("/v1/embeddings", json.dumps(embed).encode()[:-1] + b', "a\u0000b": 1}'),
        {400}, path="/v1")
    add("5,000 embedding inputs", post("/v1/embeddings", dict(embed, input=["a"] * 5000)), {400, 413}, path="/v1")
    add("2,048 embedding inputs", post("/v1/embeddings", dict(embed, input=["word"] * 2048)), {200}, path="/v1",
        timeout=30)
    add("an embedding input longer than the context", post("/v1/embeddings", dict(embed, input="word " * 12000)),
        {400, 413}, path="/v1")
    add("5,000 messages", post("/v1/chat/completions", dict(chat, messages=[{"role": "user", "content": "a"}] * 5000)),
        {200, 400, 413}, path="/v1")
    add("prompt longer than the context", post("/generate", dict(native, prompt="word " * 12000)),
        {200, 400, 413}, path="/generate")
    add("duplicate prompt keys", post("/generate", b'{"prompt":"a","prompt":"b","max_tokens":2}'), {200, 400, 422},
        path="/generate")
    add("duplicate max_tokens keys", post("/generate", b'{"prompt":"a","max_tokens":2,"max_tokens":99999999}'),
        {200, 400, 422}, path="/generate")
    add("duplicate stream keys", post("/v1/chat/completions", json.dumps(chat).encode()[:-1] +
                                      b', "stream": false, "stream": true}'), {200, 400}, path="/v1")
    add("duplicate messages keys", post("/v1/chat/completions", json.dumps(chat).encode()[:-1] + b', "messages": "x"}'),
        {200, 400}, path="/v1")
    add("wrong Content-Type", post("/generate", body, [("Content-Type", "text/plain")]), {200, 400, 415},
        path="/generate")

    # --- Numbers out of range in every numeric field.
    huge = "9223372036854775808"  # 2^63
    native_fields = {"max_tokens": "bad", "temperature": "bad", "top_p": "bad", "top_k": "maybe",
                     "repeat_penalty": "bad", "seed": "maybe"}
    openai_fields = {"max_tokens": "bad", "temperature": "bad", "top_p": "bad", "top_k": "maybe", "n": "bad",
                     "seed": "maybe", "presence_penalty": "ok", "frequency_penalty": "ok"}
    for path, base, table, shape_ok in (("/generate", native, native_fields, E4),
                                        ("/v1/completions", compl, openai_fields, {400})):
        for field, minus_one in table.items():
            for literal in ("1e309", "-1", huge, "NaN"):
                obj = dict(base)
                obj.pop(field, None)
                text = json.dumps(obj).encode()[:-1] + b', "%s": %s}' % (field.encode(), literal.encode())
                if literal == "-1":
                    ok = {200} if minus_one == "ok" else shape_ok | {200} if minus_one == "maybe" else shape_ok
                elif literal == huge and field == "seed":
                    ok = shape_ok | {200}
                else:
                    ok = shape_ok
                add("%s %s=%s" % (path, field, literal if len(literal) < 8 else "2^63"), post(path, text), ok, path=path)
    for literal, ok in (("1e309", {400}), ("-1", {200}), (huge, {400}), ("NaN", {400})):
        text = json.dumps(compl).encode()[:-1] + b', "logit_bias": {"1": %s}}' % literal.encode()
        add("logit_bias value %s" % (literal if len(literal) < 8 else "2^63"), post("/v1/completions", text), ok,
            path="/v1")
    add("logit_bias key 2^80", post("/v1/completions", dict(compl, logit_bias={"1208925819614629174706176": 1})),
        {400}, path="/v1")
    add("logit_bias key -1", post("/v1/completions", dict(compl, logit_bias={"-1": 1})), {400}, path="/v1")
    add("logit_bias key raw 0xff", post("/v1/completions", bad_json(dict(compl, logit_bias={"@@BAD@@": 1}))), {400},
        path="/v1")
    for field in ("max_tokens", "n", "temperature"):
        obj = {k: v for k, v in chat.items() if k != field}
        text = json.dumps(obj).encode()[:-1] + b', "%s": 1e309}' % field.encode()
        add("chat %s=1e309" % field, post("/v1/chat/completions", text), {400}, path="/v1")

    # --- Protocol versions, pipelining, Expect, methods, odd heads.
    add("HTTP/1.0 GET without Host", get("/health", version="HTTP/1.0", host=False, close=False), {200}, path="/health")
    add("HTTP/1.0 POST /generate", post("/generate", native, version="HTTP/1.0", close=False), {200}, path="/generate")
    add("HTTP/1.0 stream", post("/generate/stream", native, version="HTTP/1.0", close=False), {200},
        path="/generate")
    add("HTTP/1.1 without Host", get("/health", host=False), {200, 400}, path="/health")
    add("HTTP/0.9 request", b"GET /health\r\n\r\n", {400, 505, "closed"}, half_close=True)
    add("HTTP/2.0 in the request line", get("/health", version="HTTP/2.0"), {200, 400, 505}, path="/health")
    add("HTTP/9.9", get("/health", version="HTTP/9.9"), {400, 505}, path="/health")
    add("h2c prior knowledge preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {400, 404, 405, 501, 505, "closed"},
        half_close=True)
    add("TLS client hello", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + os.urandom(200),
        {400, "closed"}, half_close=True)
    add("4 KiB of random bytes", os.urandom(4096), {400, 431, "closed"}, half_close=True)
    add("only empty lines", b"\r\n" * 100, {400, "closed"}, half_close=True)
    add("bare LF line ends", b"GET /health HTTP/1.1\nHost: x\nConnection: close\n\n", {200, 400, "closed"},
        half_close=True)
    add("bare CR line ends", b"GET /health HTTP/1.1\rHost: x\rConnection: close\r\r", {400, "closed"}, half_close=True)
    add("spaces in the request line", b"GET    /health     HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        {200, 400}, path="/health")
    pipe = (request_bytes("GET", "/health", close=False) + request_bytes("GET", "/v1/models", close=False) +
            request_bytes("GET", "/status"))
    add("3 pipelined GETs", pipe, {200}, responses=3,
        check=pipelined([({200}, b"healthy"), ({200}, b'"data"'), ({200}, b"slots")]), path="/health")
    add("pipelined POST then GET", post("/generate", native, close=False) + get("/status"), {200}, responses=2,
        check=pipelined([({200}, b'"text"'), ({200}, b"slots")]), path="/generate")
    add("pipelined 404 then GET", get("/%ff", close=False) + get("/health"), {400, 404}, responses=2,
        check=pipelined([({400, 404}, b""), ({200}, b"healthy")]), path="/")
    add("50 pipelined GETs", get("/health", close=False) * 49 + get("/health"), {200}, responses=50,
        check=pipelined([({200}, b"healthy")] * 50), path="/health")
    expect_head = (b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                   b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
    add("Expect: 100-continue", None, {200, 417}, pieces=[(0, expect_head), (1.0, body)], path="/generate",
        check=lambda ex: None if all(r.status == 100 for r in ex.interim) else "odd interim %s" % ex.interim)
    add("Expect: 100-continue over the limit", b"POST /generate HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Length: 1048576\r\nConnection: close\r\n\r\n", {413, 417}, path="/generate", needs="--max-body-bytes",
        check=lambda ex: "100 Continue for a body over the limit" if ex.interim else None)
    add("Expect: bogus", post("/generate", native, [("Expect", "bogus")]), {200, 417}, path="/generate")
    add("unknown method BREW", request_bytes("BREW", "/health"), {400, 404, 405, 501}, path="/health")
    add("lowercase method", request_bytes("get", "/health"), {400, 404, 405, 501}, path="/health")
    add("DELETE /health", request_bytes("DELETE", "/health"), {404, 405}, path="/health")
    add("PUT /generate", request_bytes("PUT", "/generate", body=native), {404, 405}, path="/generate")
    add("TRACE echoes nothing", request_bytes("TRACE", "/", headers=[("X-Marker", "trace-echo-marker")]),
        {400, 404, 405, 501}, check=no_echo(b"trace-echo-marker"), path="/")
    add("OPTIONS *", request_bytes("OPTIONS", "*"), {200, 204, 400, 404, 405, 501})
    add("CONNECT", request_bytes("CONNECT", "127.0.0.1:22"), {400, 404, 405, 501, "closed"}, half_close=True)
    add("absolute-form target", get("http://127.0.0.1/health"), {200, 400, 404})
    add("target *", get("*"), {400, 404})
    add("target without slash", get("health"), {400, 404})
    add("path ../../etc/passwd", get("/../../../../etc/passwd"), {400, 404}, check=no_passwd, path="/")
    add("path %2e%2e/etc/passwd", get("/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd"), {400, 404}, check=no_passwd,
        path="/static")
    add("header without colon", get("/health", [("NoColonHere", "")]).replace(b"NoColonHere: ", b"NoColonHere"),
        {400}, path="/health")
    add("empty header name", get("/health").replace(b"Host:", b": x\r\nHost:"), {200, 400}, path="/health")
    add("space in a header name", get("/health", [("X Y", "z")]), {200, 400}, path="/health")
    add("UTF-8 header name", get("/health", [("H\u00e9ader", "z")]), {200, 400}, path="/health")
    add("obs-fold header line", get("/health", [("X-A", "a")]).replace(b"X-A: a", b"X-A: a\r\n  folded"), {200, 400},
        path="/health")
    add("header name of symbols", get("/health", [("()<>@,;\\/[]?={}", "x")]), {200, 400}, path="/health")
    add("two Host headers", get("/health", [("Host", "evil.example")]), {200, 400}, path="/health")

    # --- An --api-key node: a bad key, odd Authorization headers.
    add("api key: none", post("/generate", native), {401}, node="key", path="/generate")
    add("api key: wrong (/v1)", post("/v1/chat/completions", chat, [("Authorization", "Bearer wrong")]), {401},
        node="key", path="/v1")
    add("api key: raw 0xff", post("/v1/completions", compl, [("Authorization", b"Bearer \xff\xfe")]), {400, 401},
        node="key", path="/v1")
    add("api key: NUL", post("/generate", native, [("Authorization", b"Bearer " + API_KEY.encode() + b"\x00")]),
        {400, 401}, node="key", path="/generate")
    add("api key: prefix of the key", post("/generate", native, [("Authorization", "Bearer " + API_KEY[:-1])]), {401},
        node="key", path="/generate")
    add("api key: 12 KiB", post("/generate", native, [("Authorization", "Bearer " + "k" * 12288)]), {401, 431},
        node="key", path="/generate")
    add("api key: Basic", get("/info", [("Authorization", "Basic aGk6aGk=")]), {401}, node="key", path="/info")
    add("api key: /metrics without", get("/metrics"), {401}, node="key", path="/metrics")
    add("api key: path %ff", get("/%ff"), {401, 404}, node="key", path="/")
    add("api key: chunked over the limit", chunked("/generate", mib), {401, 413}, node="key", path="/generate",
        timeout=8)
    return cases


def generate_ok(node, headers):
    ex = exchange(node.port, post("/generate", {"prompt": "Hello", "max_tokens": 2}, headers), timeout=30)
    if ex.first is None or ex.first.status != 200:
        return "POST /generate after it: %s" % ex.outcome()
    try:
        if not isinstance(ex.first.json().get("text"), str):
            return "POST /generate after it: no text"
    except ValueError:
        return "POST /generate after it: not JSON"
    return None


def judge(case, ex):
    problems = []
    outcome = ex.outcome()
    if outcome not in case.ok:
        problems.append("got %s, want %s" % (outcome, "/".join(str(s) for s in sorted(case.ok, key=str))))
    for r in ex.responses:
        if not r.has_nosniff():
            problems.append("%d without nosniff" % r.status)
        if r.status >= 400 and not case.head_only:
            p = error_shape_problem(r, case.shape)
            if p:
                problems.append("%d: %s" % (r.status, p))
    if len(ex.responses) > case.responses:
        problems.append("%d answers to %d request(s): the rest of the request was read as new requests (%s)" % (
            len(ex.responses), case.responses, "/".join(str(r.status) for r in ex.responses)))
    if case.check:
        p = case.check(ex)
        if p:
            problems.append(p)
    return problems


def main():
    node_bin, model_path = node_and_model(__doc__)
    started = time.time()
    flags = node_flags(node_bin)
    limit = ["--max-body-bytes", str(BODY_LIMIT)] if "--max-body-bytes" in flags else []
    nodes = {"main": NodeProcess(node_bin, model_path, limit, name="hostile"),
             "key": NodeProcess(node_bin, model_path, limit + ["--api-key", API_KEY], name="keyed")}
    auth = {"main": [], "key": [("Authorization", "Bearer " + API_KEY)]}
    passed = failed = 0
    try:
        for n in nodes.values():
            try:
                n.start()
            except RuntimeError as e:
                print("FAIL: %s" % str(e)[:600])
                return 1
        models = exchange(nodes["main"].port, get("/v1/models")).first
        model = models.json()["data"][0]["id"] if models and models.status == 200 else "tiny-f16"
        cases = build_cases(model)
        print("%d cases against %s (model %s)%s" % (len(cases), node_bin, model,
                                                    "" if limit else "; --max-body-bytes is not a flag of this node"))
        for case in cases:
            node = nodes[case.node]
            if time.time() - started > TIME_BUDGET:
                failed += 1
                print("FAIL  %-44s not run: the run is over its %d s budget" % (case.name, TIME_BUDGET))
                continue
            ex = exchange(node.port, case.data, responses=case.responses, timeout=case.timeout,
                          half_close=case.half_close, head_only=case.head_only, pieces=case.pieces, linger=0.3)
            problems = judge(case, ex)
            if case.needs and case.needs not in flags:
                problems.append("the node has no %s flag" % case.needs)
            follow = None
            if node.alive():
                follow = None if node.healthy(timeout=5, headers=auth[case.node]) else "GET /health after it failed"
                follow = follow or generate_ok(node, auth[case.node])
            died = not node.alive()
            if died:
                problems.append("NODE DIED (exit %s): %s" % (node.proc.returncode,
                                                               node.tail(3).replace("\n", " | ")[-200:]))
            elif follow:
                problems.append(follow)
            if died or follow:
                node.restart()
            if problems:
                failed += 1
                print("FAIL  %-44s %s" % (case.name, "; ".join(problems)))
            else:
                passed += 1
                print("ok    %-44s %s" % (case.name, "/".join(str(r.status) for r in ex.responses) or ex.outcome()))
            sys.stdout.flush()
    finally:
        for n in nodes.values():
            n.close()
    print("%d passed, %d failed (%.1f s)" % (passed, failed, time.time() - started))
    return 1 if failed or passed < 60 else 0


if __name__ == "__main__":
    sys.exit(main())
