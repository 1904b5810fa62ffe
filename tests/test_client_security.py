"""No secret and no raw phone number in what the SDK shows: reprs, exception texts, logs."""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import trustme

from oneconnect_pipelines.client import (
    Campaign,
    Contact,
    ContactList,
    Message,
    OneConnect,
    OneConnectError,
    RetryPolicy,
    SmsCode,
)
from oneconnect_pipelines.client import errors as e
from oneconnect_pipelines.client._connections import tls_context
from oneconnect_pipelines.masking import mask_phone
from oneconnect_pipelines.simulator import SimClock, Simulator, SimulatorThread

from .conftest import API_KEY, EMAIL, EMPTY, TZ, Sim, default_account

FAST = RetryPolicy(backoff_base=0.01, backoff_max=0.05, retry_after_max=0.05, max_attempts=3)
WRONG_KEY = "wrong-key-Zq81xv"
SECRETS = (
    API_KEY,
    WRONG_KEY,
    base64.b64encode(f"{EMAIL}:{API_KEY}".encode()).decode(),
    base64.b64encode(f"{EMAIL}:{WRONG_KEY}".encode()).decode(),
)
NEW_NUMBER, NEW_EXTRA = "0599123456", "995598765432"


def leaks(text: str, numbers: Iterable[str]) -> list[str]:
    """The secrets and raw phone numbers found in ``text``."""
    return [s for s in (*SECRETS, *numbers) if s and s in text]


def all_numbers(sim: Sim) -> set[str]:
    """Every phone number the account holds: contacts, extra numbers, list uploads, campaigns."""
    numbers = {NEW_NUMBER, NEW_EXTRA}
    for contact in sim.api.get("/contacts").json():
        numbers.add(contact["phone_number"])
        numbers.update(contact["additional_numbers"])
    for record in sim.api.get("/lists").json():
        numbers.update((record["noncontact_members"] or {}).get("phone_number", []))
    for campaign in sim.api.get("/campaigns").json():
        numbers.update(n for n in campaign["recipients"].split(",") if n)
    for message in sim.api.get("/messages").json():
        numbers.add(message["sms"]["destination"])
    return numbers


@pytest.fixture
def oc(sim: Sim) -> Iterator[OneConnect]:
    with OneConnect(sim.base_url, EMAIL, API_KEY, timezone=TZ, retry=FAST) as client:
        yield client


def test_client_and_transport_reprs_hide_credentials(oc: OneConnect) -> None:
    for text in (repr(oc), str(oc), repr(oc._loop), repr(oc.stats)):
        assert leaks(text, ()) == []
    assert "OneConnect(" in repr(oc)


def test_record_reprs_mask_numbers_and_hide_codes(sim: Sim, oc: OneConnect) -> None:
    numbers = all_numbers(sim)
    contacts = list(oc.contacts.list())
    lists = list(oc.lists.list())
    campaigns = list(oc.campaigns.list())
    messages = list(oc.messages.list(limit=50))
    assert any(x.noncontact_members for x in lists)
    assert any(c.recipients for c in campaigns)
    records: list[Contact | ContactList | Campaign | Message] = [
        *contacts,
        *lists,
        *campaigns,
        *messages,
    ]
    for record in records:
        assert leaks(repr(record), numbers) == [], type(record).__name__
    assert mask_phone(contacts[0].phone_number) in repr(contacts[0])
    assert mask_phone(messages[0].destination) in repr(messages[0])
    code = oc.messages.sms_auth("0599000042", length=8)
    assert code.code not in repr(code)
    assert "0599000042" not in repr(code)
    assert repr(SmsCode("483920", "0599000042")) == "SmsCode(code='***', phone_number='0599****42')"


def _raise(action: Callable[[], object]) -> OneConnectError:
    with pytest.raises(OneConnectError) as caught:
        action()
    return caught.value


def exception_texts(error: BaseException) -> Iterator[str]:
    """What a user or a log handler can see of an error, along its whole chain."""
    seen: BaseException | None = error
    while seen is not None:
        yield str(seen)
        yield repr(seen)
        for name in ("message", "body", "errors", "call"):
            yield str(getattr(seen, name, ""))
        seen = seen.__cause__ or seen.__context__


def test_exceptions_from_the_simulator_hide_numbers_and_keys(sim: Sim, oc: OneConnect) -> None:
    taken = sim.api.get("/contacts").json()[0]["phone_number"]
    with OneConnect(sim.base_url, EMAIL, WRONG_KEY, timezone=TZ) as intruder:
        raised = [
            _raise(lambda: intruder.contacts.find_by_phone(taken)),
            _raise(lambda: intruder.contacts.create(NEW_NUMBER)),
        ]
    raised += [
        _raise(lambda: oc.contacts.create(taken)),
        _raise(lambda: oc.contacts.create("12ab", additional_numbers=[NEW_EXTRA, "x"])),
        _raise(lambda: oc.contacts.update(1, phone_number=taken + "x")),
        _raise(lambda: oc.messages.send("hi", destinations=[NEW_NUMBER, "12"])),
        _raise(lambda: oc.messages.sms_auth("12")),
        _raise(lambda: oc.messages.send("x" * 161, destinations=[NEW_NUMBER])),
        _raise(lambda: oc.contacts.get(424242)),
    ]
    assert [type(error) for error in raised] == [
        e.AuthenticationError,
        e.AuthenticationError,
        e.ValidationError,
        e.ValidationError,
        e.ValidationError,
        e.ValidationError,
        e.InvalidPhoneNumberError,
        e.ContentTooLongError,
        e.NotFoundError,
    ]
    numbers = all_numbers(sim) | {taken + "x"}
    for error in raised:
        for text in exception_texts(error):
            assert leaks(text, numbers) == [], text


def test_exceptions_mask_numbers_a_server_echoes_back() -> None:
    """A real service may quote the request in its errors: the SDK still masks them."""
    echoes = {
        "/contacts": httpx.Response(422, json={"errors": [f"Phone number {NEW_NUMBER} is taken"]}),
        "/lists": httpx.Response(404, json={"error_code": 404, "message": f"No {NEW_NUMBER}"}),
        "/balance": httpx.Response(200, text=f"<html>{NEW_NUMBER}</html>"),
        "/messages": httpx.Response(500, text=f"crash while sending to {NEW_NUMBER}"),
        "/titles": httpx.Response(503, text=f"busy with {NEW_NUMBER}"),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return echoes[request.url.path.removeprefix("/api/v1")]

    with OneConnect(
        "http://oneconnect.test/api/v1",
        EMAIL,
        API_KEY,
        timezone=TZ,
        retry=FAST,
        transport=httpx.MockTransport(handler),
    ) as client:
        raised = [
            _raise(lambda: client.contacts.create(NEW_NUMBER)),
            _raise(lambda: client.call("GET", "/lists", params={"name": NEW_NUMBER})),
            _raise(client.balance),
            _raise(lambda: client.messages.send("hi", destinations=[NEW_NUMBER])),
            _raise(lambda: list(client.titles.list())),
        ]
    assert [type(error) for error in raised] == [
        e.ValidationError,
        e.NotFoundError,
        e.ResponseError,
        e.SendOutcomeUnknownError,
        e.ServerError,
    ]
    for error in raised:
        for text in exception_texts(error):
            assert leaks(text, [NEW_NUMBER]) == [], text
    assert mask_phone(NEW_NUMBER) in str(raised[0])


BIRTHDAY = "05.05.1997"


def test_a_server_that_echoes_the_request_leaks_nothing_into_exceptions(sim: Sim) -> None:
    """Error pages that quote the Authorization header, the decoded credentials, the
    number and the birthday sent: none of it reaches an exception's text or repr."""
    sim.admin.put("/faults", json={"reflect": True, "error_rates": {"500": 1.0}}).raise_for_status()
    with OneConnect(sim.base_url, EMAIL, API_KEY, timezone=TZ, retry=FAST) as client:
        raised = [
            _raise(client.balance),
            _raise(lambda: client.contacts.create(NEW_NUMBER, birthday=BIRTHDAY)),
            _raise(lambda: client.contacts.update(1, phone_number=NEW_NUMBER, birthday=BIRTHDAY)),
            _raise(lambda: client.messages.send("hi", destinations=[NEW_NUMBER])),
            _raise(lambda: list(client.contacts.list(phone_number=NEW_NUMBER))),
        ]
    sim.admin.put("/faults", json={"reflect": True, "error_rates": {"503": 1.0}}).raise_for_status()
    with OneConnect(sim.base_url, EMAIL, API_KEY, timezone=TZ, retry=FAST) as client:
        raised.append(_raise(lambda: client.templates.create("t", f"for {NEW_NUMBER}")))
    sim.admin.put("/faults", json={}).raise_for_status()
    assert [type(error) for error in raised] == [
        e.ServerError,
        e.OutcomeUnknownError,
        e.ServerError,
        e.SendOutcomeUnknownError,
        e.ServerError,
        e.ServerError,
    ]
    assert any("credentials: [secret]" in error.body for error in raised if hasattr(error, "body"))
    for error in raised:
        for text in exception_texts(error):
            assert leaks(text, [NEW_NUMBER, BIRTHDAY, EMAIL]) == [], text


def test_a_non_json_success_that_echoes_the_key_leaks_nothing() -> None:
    token = SECRETS[2]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, text=f"<p>hello {EMAIL}, key {API_KEY}, {request.headers['authorization']}</p>"
        )

    with OneConnect(
        "http://oneconnect.test/api/v1",
        EMAIL,
        API_KEY,
        timezone=TZ,
        transport=httpx.MockTransport(handler),
    ) as client:
        error = _raise(client.balance)
    assert isinstance(error, e.ResponseError)
    for text in exception_texts(error):
        assert leaks(text, [EMAIL, token]) == [], text
    assert "[secret]" in str(error)


@pytest.fixture
def echoing_server() -> Iterator[str]:
    """A loopback server that answers every request 500 with its Authorization header
    echoed in a response header and the body (httpcore logs response headers at DEBUG)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            echoed = self.headers.get("Authorization", "")
            body = f"denied {echoed} {self.path}".encode()
            self.send_response(500)
            self.send_header("X-Echo", echoed)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    server.shutdown()
    server.server_close()


def test_wire_debug_logs_hide_credentials_a_server_echoes(
    echoing_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.DEBUG),
        OneConnect(echoing_server, EMAIL, API_KEY, timezone=TZ, retry=FAST) as client,
    ):
        error = _raise(lambda: client.contacts.find_by_phone(NEW_NUMBER))
    text = _log_text(caplog.records)
    assert "x-echo" in text.lower()  # httpcore did log the response headers
    assert leaks(text, [NEW_NUMBER]) == [], text
    for seen in exception_texts(error):
        assert leaks(seen, [NEW_NUMBER]) == [], seen


def _log_text(records: Iterable[logging.LogRecord]) -> str:
    return "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records)


def test_debug_logs_hide_keys_and_numbers(
    sim: Sim, oc: OneConnect, caplog: pytest.LogCaptureFixture
) -> None:
    numbers = all_numbers(sim)
    existing = sim.api.get("/contacts").json()[5]["phone_number"]
    with caplog.at_level(logging.DEBUG):
        contacts = list(oc.contacts.list())
        assert oc.contacts.find_by_phone(existing) is not None
        created = oc.contacts.create(NEW_NUMBER, additional_numbers=[NEW_EXTRA])
        list(oc.lists.list())
        list(oc.contacts.list(phone_number=NEW_NUMBER, additional_numbers=NEW_EXTRA))
        with (
            OneConnect(sim.base_url, EMAIL, WRONG_KEY, timezone=TZ) as intruder,
            pytest.raises(e.AuthenticationError),
        ):
            intruder.contacts.find_by_phone(existing)
        logging.getLogger("tests").info("contacts: %r, created: %r", contacts[:5], created)
    text = _log_text(caplog.records)
    assert leaks(text, numbers) == []
    # The lines are still there, with the numbers masked: logs stay useful.
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any(f"phone_number={mask_phone(existing)}" in line for line in requests)
    assert any("401 Unauthorized" in line for line in requests)
    assert len(requests) >= 6


def test_log_masking_leaves_other_loggers_and_short_numbers_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("tests.other").info("order %s", "0599123456")
        logging.getLogger("httpx").info("HTTP Request: %s %s", "GET", "/contacts/42?page=3")
    other, httpx_line = (r.getMessage() for r in caplog.records)
    assert other == "order 0599123456"
    assert httpx_line == "HTTP Request: GET /contacts/42?page=3"


def test_request_log_lines_mask_values_url_encoding_hides_from_patterns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """httpx's INFO line quotes the URL, where ``@`` is ``%40`` and ``/`` is ``%2F``: the
    values are masked as the server reads them, decoded (and numbers by parameter name)."""
    email, birthday, numbers = "anna.smith@example.com", "05/05/1997", ["0555123", "0555124"]
    with (
        OneConnect(
            "http://oneconnect.test/api/v1",
            EMAIL,
            API_KEY,
            timezone=TZ,
            transport=httpx.MockTransport(lambda request: httpx.Response(200, json=[])),
        ) as client,
        caplog.at_level(logging.INFO),
    ):
        list(client.contacts.list(email=email, birthday=birthday))
        list(client.contacts.list(additional_numbers=numbers, city="Tbilisi"))
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    text = "\n".join(lines)
    for value in (email, birthday, *numbers):
        for written in (value, quote(value, safe=""), quote_plus(value)):
            assert written not in text, text
    assert "email=a*********@example.com&birthday=**/**/****&" in lines[0]
    assert "additional_numbers=*****23,*****24&city=Tbilisi&" in lines[1]  # the city as it was


def test_an_error_names_its_call_with_encoded_personal_values_masked(oc: OneConnect) -> None:
    error = _raise(lambda: oc.call("GET", "/no_such_endpoint?email=anna%40example.com&page=2"))
    assert "anna" not in str(error) and "anna" not in error.call
    assert error.call == "GET /no_such_endpoint?email=a***@example.com&page=2"


def test_log_filter_is_installed_once(sim: Sim) -> None:
    before = list(logging.getLogger("httpx").filters)
    clients: list[Any] = [OneConnect(sim.base_url, EMAIL, API_KEY, timezone=TZ) for _ in range(3)]
    for client in clients:
        client.close()
    assert logging.getLogger("httpx").filters == before
    assert before, "the SDK masks httpx's request log lines"


def test_a_raw_call_with_a_number_in_its_query_is_masked_in_the_error(oc: OneConnect) -> None:
    number = "0555123987"
    error = _raise(lambda: oc.call("GET", f"/no_such_endpoint?phone_number={number}"))
    assert isinstance(error, e.NotFoundError)
    assert error.error_code == error.status_code == 404
    assert number not in str(error)
    assert mask_phone(number) in str(error)
    assert str(error).startswith("GET /no_such_endpoint?phone_number=")


@pytest.fixture
def https_sim(tmp_path: Path) -> Iterator[tuple[SimulatorThread, Path]]:
    """A simulator serving HTTPS with a certificate of a throwaway CA -> (it, the CA file)."""
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    certfile, keyfile, cafile = (tmp_path / name for name in ("cert.pem", "key.pem", "ca.pem"))
    issued.cert_chain_pems[0].write_to_path(certfile)
    issued.private_key_pem.write_to_path(keyfile)
    authority.cert_pem.write_to_path(cafile)
    simulator = Simulator.create(default_account(), EMPTY, clock=SimClock(frozen=True))
    with SimulatorThread(simulator, tls=(str(certfile), str(keyfile))) as thread:
        yield thread, cafile


def test_https_certificates_are_checked_against_one_trust_shared_by_clients(
    https_sim: tuple[SimulatorThread, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    thread, cafile = https_sim
    assert thread.base_url.startswith("https://")
    tls_context.cache_clear()
    try:
        untrusted = OneConnect(thread.base_url, EMAIL, API_KEY, timezone=TZ, retry=FAST)
        with untrusted, pytest.raises(e.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            untrusted.balance()
        tls_context.cache_clear()
        monkeypatch.setenv("SSL_CERT_FILE", str(cafile))  # how a user trusts a private CA
        first = OneConnect(thread.base_url, EMAIL, API_KEY, timezone=TZ, retry=FAST)
        second = OneConnect(thread.base_url, EMAIL, API_KEY, timezone=TZ, retry=FAST)
        with first, second:
            assert first.balance() == second.balance() == 10_000
        assert tls_context.cache_info().misses == 1  # the CA file was read once for both
    finally:
        tls_context.cache_clear()  # later clients read the usual trust again
