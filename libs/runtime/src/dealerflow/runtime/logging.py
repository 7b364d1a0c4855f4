"""Structured logging: JSON lines with trace ids, phone and ID numbers and e-mail
addresses masked.

Services call :func:`configure_logging` once at start-up and then log with the standard
library (``logging.getLogger(__name__).info("lead created", extra={"lead_id": ...})``).
Every record, text or JSON, passes through :func:`mask_pii`, in the message, in extra
fields and in exception text, because logs leave the system (collectors, support tickets)
and must not carry customers' phone or ID-card numbers or e-mail addresses. DLQ reasons
(:mod:`dealerflow.runtime.dlq`) and error spans (:mod:`dealerflow.runtime.http`) are masked
the same way.
"""

from __future__ import annotations

import json as jsonlib
import logging
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from typing import Any, TextIO

from opentelemetry import trace
from prometheus_client import Counter

__all__ = [
    "JsonFormatter",
    "RepeatFilter",
    "TextFormatter",
    "configure_logging",
    "mask_pii",
    "mask_value",
]

# 18-character PRC resident ID: 6-digit area, birth date 18xx-20xx, 3-digit sequence,
# check character. Matching the date part keeps order numbers from being mistaken for IDs.
_CN_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[\dXx](?![0-9A-Za-z])"
)
# Chinese mobile number, optionally with +86 / 0086 / 86 and spaces or dashes.
_CN_MOBILE = re.compile(
    r"(?<![\d+])(?P<cc>(?:\+|00)?86[\s-]?)?(?P<num>1[3-9]\d(?:[\s-]?\d){8})(?!\d)"
)
# Any other E.164 number: "+" and 7 to 15 digits.
_E164 = re.compile(r"\+(?P<num>[1-9]\d{6,14})(?!\d)")
# An e-mail address: the local part goes, the domain (with a letter TLD, so no DSN's
# user@127.0.0.1) stays.
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?P<domain>[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,})\b")


# strict=True (dead-letter reasons, CLI output): any run of 7 or more digits, spaces or
# parentheses between them allowed, is masked too, a number a validator refused (too short,
# a typo) included. Dates and times (dashes, colons) and decimal amounts are not runs.
_DIGIT_RUN = re.compile(r"(?<![\d*.])\+?\d(?:[ ()]{0,2}\d){6,}(?![\d]|\.\d)")
# strict=True: any "local@host", whatever the host looks like.
_ANY_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?P<domain>[\w-]+(?:\.[\w-]+)*)")

# Identifiers are never masked, whatever digits they hold: UUIDs (event, lead, dealer
# ids; any case, with or without dashes) and runs of 16 or more hex digits with a letter
# among them (trace and span ids, W3C traceparent parts, hashes). Only the text between
# them is searched for phone and ID numbers.
_IDENTIFIER = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"|(?=[0-9]*[A-Fa-f])[0-9A-Fa-f]{16,}"
    r")(?![0-9A-Za-z])"
)


def _keep_last4(digits: str) -> str:
    return "*" * (len(digits) - 4) + digits[-4:]


def _mask_id(m: re.Match[str]) -> str:
    return _keep_last4(m.group(0))


def _mask_cn_mobile(m: re.Match[str]) -> str:
    cc = m.group("cc") or ""
    digits = re.sub(r"\D", "", m.group("num"))
    prefix = "+86" if cc.strip().startswith(("+", "00")) else ("86" if cc else "")
    return prefix + _keep_last4(digits)


def _mask_e164(m: re.Match[str]) -> str:
    digits = m.group("num")
    # keep the first two digits (country code or part of it) so support staff can still
    # tell a domestic number from a foreign one
    return "+" + digits[:2] + _keep_last4(digits[2:])


def _mask_run(m: re.Match[str]) -> str:
    return _keep_last4(re.sub(r"\D", "", m.group(0)))


def mask_pii(text: str, *, strict: bool = False) -> str:
    """Mask phone numbers and Chinese ID-card numbers in ``text``, keeping the last 4 digits,
    and e-mail addresses, keeping the domain.

    ``"+8613812345678"`` -> ``"+86*******5678"``, ``"13812345678"`` -> ``"*******5678"``,
    ``"+14155552671"`` -> ``"+14*****2671"``, an 18-character ID -> 14 ``*`` + last 4,
    ``"zhang.wei@example.cn"`` -> ``"***@example.cn"``. Identifiers (UUIDs, trace and
    span ids, long hex strings) are left intact, digits and all.

    ``strict=True`` (what operators read and paste: dead-letter reasons, the
    ``dealerflow-dlq`` output) also masks any run of 7 or more digits and any
    ``local@host``: a validator's message quotes the number or address it refused, and a
    refused one matches no phone pattern.
    """
    if "@" in text:
        text = (_ANY_EMAIL if strict else _EMAIL).sub(r"***@\g<domain>", text)
    if not any(ch.isdigit() for ch in text):
        return text
    parts: list[str] = []
    last = 0
    for ident in _IDENTIFIER.finditer(text):
        parts.append(_mask_numbers(text[last : ident.start()], strict))
        parts.append(ident.group(0))
        last = ident.end()
    if not parts:
        return _mask_numbers(text, strict)
    parts.append(_mask_numbers(text[last:], strict))
    return "".join(parts)


def _mask_numbers(text: str, strict: bool) -> str:
    """Phone and ID numbers of ``text`` (which holds no identifier) masked."""
    if not text:
        return text
    text = _CN_ID.sub(_mask_id, text)
    text = _CN_MOBILE.sub(_mask_cn_mobile, text)
    text = _E164.sub(_mask_e164, text)
    return _DIGIT_RUN.sub(_mask_run, text) if strict else text


def mask_value(value: Any) -> Any:
    """:func:`mask_pii` applied recursively to strings in dicts, lists and tuples.

    Integers that look like a phone or ID number (a phone stored as a number) are masked
    into a string; other values are returned unchanged.
    """
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        as_text = str(value)
        masked = mask_pii(as_text)
        return value if masked == as_text else masked
    if isinstance(value, Mapping):
        return {str(k): mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(v) for v in value]
    return value


# Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "taskName"}
)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


def _trace_ids() -> tuple[str | None, str | None]:
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None, None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def _exception_text(record: logging.LogRecord) -> str | None:
    if record.exc_info and record.exc_info[0] is not None:
        return "".join(traceback.format_exception(*record.exc_info)).rstrip()
    if record.exc_text:
        return record.exc_text
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, service, trace_id, span_id, extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        trace_id, span_id = _trace_ids()
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": mask_pii(record.getMessage()),
            "service": self.service,
            "trace_id": trace_id,
            "span_id": span_id,
        }
        for key, value in _extras(record).items():
            doc.setdefault(key, mask_value(value))
        exc = _exception_text(record)
        if exc:
            doc["exc"] = mask_pii(exc)
        # default=str for datetimes, UUIDs and the like; mask again since str() may reveal PII
        line = jsonlib.dumps(doc, ensure_ascii=False, default=lambda o: mask_pii(str(o)))
        return line


class TextFormatter(logging.Formatter):
    """Human-readable lines for local development, masked like the JSON ones."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        trace_id, _ = _trace_ids()
        parts = [ts, record.levelname, self.service, record.name]
        if trace_id:
            parts.append(f"trace={trace_id}")
        parts.append(mask_pii(record.getMessage()))
        extras = " ".join(f"{k}={mask_value(v)!r}" for k, v in _extras(record).items())
        line = " ".join(parts) + (f" {extras}" if extras else "")
        exc = _exception_text(record)
        return line + ("\n" + mask_pii(exc) if exc else "")


SUPPRESSED = Counter(
    "dealerflow_log_suppressed_total",
    "Log records of client libraries dropped as repeats (RepeatFilter), by logger",
    ["logger"],
)
# Client libraries that log every failed reconnect: during a Kafka outage aiokafka writes
# thousands of identical ERROR lines a second.
NOISY_LOGGERS = ("aiokafka", "kafka", "asyncpg", "faststream")


@dataclass
class _Seen:
    emitted_at: float
    suppressed: int = 0


class RepeatFilter(logging.Filter):
    """One line per state change of a noisy client library, plus a count of the repeats.

    A record of a logger under ``prefixes`` with the same logger, level and message
    template (``record.msg``, before its arguments: "Unable connect to node with id %s")
    as one let through less than ``interval_s`` ago is dropped and counted
    (``dealerflow_log_suppressed_total``). The next one let through of that kind carries
    ``repeated=<n>`` (dropped since the last one); a record of another kind from the
    same logger (the state changed: "connected") carries ``suppressed={template: n}``
    for the kinds it ends, so no count is lost. Other loggers pass untouched.
    """

    def __init__(
        self,
        prefixes: Sequence[str] = NOISY_LOGGERS,
        interval_s: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_kinds: int = 1000,
    ) -> None:
        super().__init__()
        self.prefixes = tuple(prefixes)
        self.interval_s = interval_s
        self.clock = clock
        self.max_kinds = max_kinds
        self._seen: dict[tuple[str, int, str], _Seen] = {}
        self._lock = threading.Lock()

    def _noisy(self, name: str) -> bool:
        return any(name == p or name.startswith(p + ".") for p in self.prefixes)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._noisy(record.name):
            return True
        kind = (record.name, record.levelno, str(record.msg)[:300])
        now = self.clock()
        with self._lock:
            seen = self._seen.get(kind)
            if seen is not None and now - seen.emitted_at < self.interval_s:
                seen.suppressed += 1
                SUPPRESSED.labels(record.name).inc()
                return False
            if seen is not None and seen.suppressed:
                record.repeated = seen.suppressed
            ended = {
                other[2]: state.suppressed
                for other, state in self._seen.items()
                if other[0] == record.name and other != kind and state.suppressed
            }
            for other in [k for k in self._seen if k[0] == record.name and k[2] in ended]:
                self._seen[other].suppressed = 0
            if ended:
                record.suppressed = ended
            if len(self._seen) >= self.max_kinds and kind not in self._seen:
                self._seen.clear()  # bounded: at worst a repeat gets through once more
            self._seen[kind] = _Seen(now)
        return True


def configure_logging(
    service: str,
    level: str = "INFO",
    json: bool = True,
    *,
    stream: TextIO | None = None,
    file: str | None = None,
    max_bytes: int = 50 * 1024 * 1024,
    backups: int = 3,
) -> logging.Handler:
    """Route all logging to one stdout handler with the JSON (or text) formatter.

    Replaces the root logger's handlers, so calling it twice does not double the output.
    Returns the handler (tests attach a stream of their own via ``stream``). Client
    libraries' repeats are summarised (:class:`RepeatFilter`). With ``file`` the log goes
    to that file instead, rotated at ``max_bytes`` (``file.1`` .. ``file.<backups>``).
    """
    handler: logging.Handler
    if file is not None and stream is None:
        handler = RotatingFileHandler(
            file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    else:
        handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter(service) if json else TextFormatter(service))
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # client libraries log every reconnect at INFO; keep them at WARNING unless debugging
    quiet = logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
    for name in ("aiokafka", "kafka", "asyncio"):
        logging.getLogger(name).setLevel(quiet)
    return handler
