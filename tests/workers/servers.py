"""Real servers the workers talk to in tests: SMTP (aiosmtpd), a webhook receiver that
verifies signatures the way the README tells integrators to, and a TCP proxy in front
of Redis that can play a broker outage."""

import asyncio
import contextlib
import hashlib
import hmac
import json
import socket
import threading
import time
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

REPLAY_WINDOW_SECONDS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, seconds: float = 60, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {seconds}s")


class MailSink:
    """aiosmtpd handler: keeps accepted messages; can refuse the next few with a 451,
    park the first conversation at RCPT (before any message is handed over), or keep
    the first message and park before answering its 250 (`hold_first_reply`)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.raw: list[bytes] = []
        self.refusals: list[float] = []
        self.accepted_at: list[float] = []
        self.refuse_next = 0
        self.logins: list[tuple[str, str]] = []
        self.hold_first = threading.Event()
        self.hold_first_reply = threading.Event()
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.hold_first.is_set():
            self.hold_first.clear()
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.refuse_next:
            self.refuse_next -= 1
            self.refusals.append(time.monotonic())
            return "451 4.3.0 Try again later"
        self.accepted_at.append(time.monotonic())
        self.raw.append(envelope.content)
        message = message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        if self.hold_first_reply.is_set():
            self.hold_first_reply.clear()
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return "250 OK"


class SmtpServer:
    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.sink = MailSink()
        self.port = free_port()
        options = {}
        if credentials:
            options = {
                "authenticator": self._authenticator(credentials),
                "auth_require_tls": False,
            }
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port, **options)

    def _authenticator(self, credentials):
        from aiosmtpd.smtp import AuthResult

        def authenticate(server, session, envelope, mechanism, auth_data):
            login = (auth_data.login.decode(), auth_data.password.decode())
            self.sink.logins.append(login)
            return AuthResult(success=login == credentials)

        return authenticate

    @property
    def messages(self) -> list[Message]:
        return self.sink.messages

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.sink.release.set()
        self.controller.stop()


def verify_signature(secret: str, header: str, body: bytes, now: float) -> bool:
    """The receiver's side, written from the README recipe (not from the app's code)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
        received = fields["v1"]
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > REPLAY_WINDOW_SECONDS:
        return False
    expected = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, received)


class WebhookReceiver:
    """Accepts POSTs whose `X-OpenWearables-Signature` verifies (401 otherwise)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.accepted: list[tuple[dict, bytes, Message]] = []
        self.rejected: list[bytes] = []
        self.refuse_next = 0
        self.refusals: list[float] = []
        self.accepted_at: list[float] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.handle(self)

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length", 0)))
        header = request.headers.get("X-OpenWearables-Signature", "")
        if not verify_signature(self.secret, header, body, time.time()):
            self.rejected.append(body)
            status = 401
        elif self.refuse_next:
            self.refuse_next -= 1
            self.refusals.append(time.monotonic())
            status = 503
        else:
            self.accepted_at.append(time.monotonic())
            self.accepted.append((json.loads(body), body, request.headers))
            status = 204
        try:
            request.send_response(status)
            request.end_headers()
        except OSError:
            pass

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target. Until `start`, the port is bound but not
    listening, so connections are refused: the broker is down, and its address stays
    reserved for when it comes back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.sockets: list[socket.socket] = []
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self._spawn(self._accept)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                downstream, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            downstream.settimeout(None)
            upstream = socket.create_connection(self.target)
            self.sockets += [downstream, upstream]
            self._spawn(self._pump, downstream, upstream)
            self._spawn(self._pump, upstream, downstream)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.stopping.set()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self.threads:
            thread.join(5)
        for sock in [self.listener, *self.sockets]:
            sock.close()
