"""Lenient, safe reading of ADF 1.0 (Auto-lead Data Format) XML into LeadSubmission data.

Lenient: tag names are matched case-insensitively and without namespaces, unknown tags and
attributes are kept as text in `attributes` (by element path), unreadable values (a year
like "2026款", a malformed VIN) are kept there instead of failing the lead, processing
instructions such as `<?adf version="1.0"?>` or `<?ADF VERSION "1.0"?>` are ignored, and
legacy encodings declared in the XML declaration (GB2312/GBK/GB18030, Big5...) are decoded.
Safe: defusedxml with DTDs, entity declarations and external references forbidden; at
most :data:`MAX_ADF_BYTES`, elements nested at most :data:`MAX_ADF_DEPTH` deep and at most
:data:`MAX_ADF_ELEMENTS` of them, checked while the XML is read (a 5,000-deep document is
refused at element 33, before any tree is walked), and every walk over the tree is
iterative, so no document can exhaust the stack.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pydantic import TypeAdapter, ValidationError

from dealerflow.contracts.types import EmailAddress, Vin

__all__ = ["MAX_ADF_BYTES", "MAX_ADF_DEPTH", "MAX_ADF_ELEMENTS", "AdfError", "read_adf"]

#: An ADF document's size limit (a lead is a few KiB; as the submissions' limit).
MAX_ADF_BYTES = 256 * 1024
#: ADF nests about six deep (adf/prospect/customer/contact/address/street).
MAX_ADF_DEPTH = 32
#: A lead has tens of elements; a document with more is not a lead.
MAX_ADF_ELEMENTS = 10_000

CHINA_STANDARD_TIME = timezone(timedelta(hours=8))
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?\?>", re.IGNORECASE)
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")
_VIN = TypeAdapter(Vin)
_EMAIL = TypeAdapter(EmailAddress)
_KM_PER_MILE = Decimal("1.609344")


class AdfError(ValueError):
    """The body is not a readable ADF document."""


def _name(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1].lower() if isinstance(element.tag, str) else ""


def _text(element: Element | None) -> str | None:
    if element is None:
        return None
    text = " ".join(part.strip() for part in element.itertext() if part.strip())
    return text or None


def _attr(element: Element, name: str) -> str | None:
    for key, value in element.attrib.items():
        if key.rsplit("}", 1)[-1].lower() == name:
            return value.strip() or None
    return None


def _decode(body: bytes) -> str:
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    declaration = _DECLARATION.match(body)
    encoding = "utf-8"
    if declaration:
        found = _ENCODING.search(declaration.group(0))
        if found:
            encoding = found.group(1).decode("ascii").lower()
        body = body[declaration.end() :]
    if encoding in ("gb2312", "gbk", "cp936"):
        encoding = "gb18030"  # the superset: vendors label GBK text as GB2312
    try:
        return body.decode(encoding)
    except LookupError:
        raise AdfError(f"unknown XML encoding {encoding!r}") from None
    except UnicodeDecodeError:
        raise AdfError(f"body is not valid {encoding} text") from None


def _parse_time(raw: str, default_tz: tzinfo) -> datetime | None:
    text = raw.strip().replace("/", "-")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=default_tz)


def _parse_date(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw.strip()[:10].replace("/", "-"))
    except ValueError:
        return None


def _decimal(raw: str | None) -> Decimal | None:
    if raw is None:
        return None
    try:
        value = Decimal(raw.replace(",", "").replace("¥", "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def _flatten(path: str, element: Element, into: dict[str, str]) -> None:
    """Store an element's text and attributes under dotted paths (vendor extras), in
    document order; iterative (an explicit stack), whatever the depth."""
    stack = [(path, element)]
    while stack:
        where, item = stack.pop()
        for key, value in item.attrib.items():
            into[f"{where}@{key.rsplit('}', 1)[-1]}"] = value
        children = list(item)
        text = _text(item)
        if not children and text is not None:
            into[where] = text
        stack.extend((f"{where}.{_name(child)}", child) for child in reversed(children))


def _parse(text: str) -> Element:
    """The document's root, refusing too deep or too many elements while reading."""
    depth = elements = 0
    root: Element | None = None
    events = SafeET.iterparse(
        io.StringIO(text),
        events=("start", "end"),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    for event, element in events:
        if event == "end":
            depth -= 1
            continue
        depth += 1
        elements += 1
        if depth > MAX_ADF_DEPTH:
            raise AdfError(f"document nested deeper than {MAX_ADF_DEPTH} elements")
        if elements > MAX_ADF_ELEMENTS:
            raise AdfError(f"document has more than {MAX_ADF_ELEMENTS} elements")
        if root is None:
            root = element
    if root is None:  # pragma: no cover - the parser raises on an empty document
        raise AdfError("malformed XML: no element")
    return root


class _Reader:
    def __init__(self, default_tz: tzinfo) -> None:
        self.default_tz = default_tz
        self.extras: dict[str, str] = {}
        self.dealer_id: str | None = None  # from <vendor><id source="dealerflow">

    def keep(self, path: str, element: Element) -> None:
        """Keep an unknown element (and its attributes) as text under its path."""
        _flatten(path, element, self.extras)

    def prospect(self, element: Element) -> dict[str, Any]:
        data: dict[str, Any] = {"format": "adf", "source": "auto_portal", "vehicles": []}
        for child in element:
            name = _name(child)
            path = f"prospect.{name}"
            if name == "id" and "submission_id" not in data and _text(child):
                data["submission_id"] = _text(child)
                if _attr(child, "source"):
                    self.extras["prospect.id@source"] = _attr(child, "source") or ""
            elif name == "requestdate" and _text(child):
                raw = _text(child) or ""
                when = _parse_time(raw, self.default_tz)
                if when is None:
                    self.extras[path] = raw
                else:
                    data["requested_at"] = when
            elif name == "vehicle":
                data["vehicles"].append(
                    self.vehicle(child, f"prospect.vehicle[{len(data['vehicles'])}]")
                )
            elif name == "customer":
                data["customer"] = self.customer(child)
            elif name in ("vendor", "provider"):
                data[name] = self.party(child, path)
            else:
                self.keep(path, child)
        if _attr(element, "status"):
            self.extras["prospect@status"] = _attr(element, "status") or ""
        data.setdefault("customer", {})
        if self.dealer_id:
            data["dealer_id"] = self.dealer_id
        provider = data.get("provider") or {}
        if provider.get("name"):
            data["source_detail"] = provider["name"]
        return data

    def vehicle(self, element: Element, path: str) -> dict[str, Any]:
        interest = (_attr(element, "interest") or "buy").lower().replace("_", "-")
        data: dict[str, Any] = {"attributes": {}}
        if interest in ("buy", "lease", "sell", "trade-in", "test-drive"):
            data["interest"] = interest
        else:
            data["attributes"]["interest"] = interest
        status = (_attr(element, "status") or "").lower()
        if status in ("new", "used"):
            data["status"] = status
        for child in element:
            name, text = _name(child), _text(child)
            if name in ("make", "model", "trim") and text:
                data[name] = text[:200]
            elif name == "year" and text and text[:4].isdigit() and len(text) == 4:
                data["year"] = int(text)
            elif name == "vin" and text and self._valid(_VIN, text):
                data["vin"] = text
            elif name == "odometer" and text and self._odometer(child, text) is not None:
                data["odometer_km"] = self._odometer(child, text)
            elif name == "price" and _decimal(text) is not None:
                currency = (_attr(child, "currency") or "CNY").upper()
                data["price"] = {"amount": _decimal(text), "currency": currency}
            elif name == "comments" and text:
                data["comments"] = text
            else:
                _flatten(name, child, data["attributes"])
        return data

    @staticmethod
    def _odometer(element: Element, text: str) -> int | None:
        value = _decimal(text)
        if value is None:
            return None
        units = (_attr(element, "units") or "km").lower()
        km = value * _KM_PER_MILE if units.startswith("mi") else value
        return int(km.to_integral_value())

    @staticmethod
    def _valid(adapter: TypeAdapter[str], value: str) -> bool:
        try:
            adapter.validate_python(value)
        except ValidationError:
            return False
        return True

    def customer(self, element: Element) -> dict[str, Any]:
        data: dict[str, Any] = {"phones": []}
        contacts = [c for c in element if _name(c) == "contact"]
        contacts.sort(key=lambda c: _attr(c, "primarycontact") != "1")
        for index, contact in enumerate(contacts):
            self.contact(contact, data, f"prospect.customer.contact[{index}]")
        for child in element:
            name = _name(child)
            if name == "contact":
                continue
            if name == "comments" and _text(child):
                data["comments"] = _text(child)
            elif name == "timeframe":
                parts = {_name(c): _text(c) for c in child}
                if parts.get("description"):
                    data["timeframe"] = parts["description"]
                if _parse_date(parts.get("latestdate")):
                    data["purchase_by"] = _parse_date(parts.get("latestdate"))
            else:
                self.keep(f"prospect.customer.{name}", child)
        return data

    def contact(self, element: Element, data: dict[str, Any], path: str) -> None:
        parts: dict[str, str] = {}
        for child in element:
            name, text = _name(child), _text(child)
            if name == "name" and text:
                parts[(_attr(child, "part") or "full").lower()] = text
            elif name == "phone" and text:
                kind = (_attr(child, "type") or "voice").lower()
                if kind in ("fax", "pager"):
                    self.extras[f"{path}.phone@{kind}"] = text
                elif _attr(child, "preferredcontact") == "1":
                    data["phones"].insert(0, text)
                else:
                    data["phones"].append(text)
                if _attr(child, "preferredcontact") == "1":
                    data.setdefault("preferred_contact", "phone")
            elif name == "email" and text and "email" not in data:
                if self._valid(_EMAIL, text):
                    data["email"] = text
                    if _attr(child, "preferredcontact") == "1":
                        data.setdefault("preferred_contact", "email")
                else:
                    self.extras[f"{path}.email"] = text
            elif name == "address":
                data.setdefault("address", self.address(child))
            else:
                self.keep(f"{path}.{name}", child)
        if "name" not in data and parts:
            data["name"] = self.full_name(parts)

    @staticmethod
    def full_name(parts: dict[str, str]) -> str:
        if "full" in parts:
            return parts["full"][:200]
        ordered = [parts.get(p) for p in ("first", "middle", "last")]
        names = [p for p in ordered if p]
        if any(_CJK.search(n) for n in names):  # Chinese order: family name first, no space
            return "".join(p for p in (parts.get("last"), parts.get("first")) if p)[:200]
        return " ".join(names)[:200]

    def address(self, element: Element) -> dict[str, Any]:
        fields = {"city": "city", "regioncode": "region", "postalcode": "postal_code"}
        data: dict[str, Any] = {}
        streets = []
        for child in element:
            name, text = _name(child), _text(child)
            if not text:
                continue
            if name == "street":
                streets.append(text)
            elif name in fields:
                data[fields[name]] = text[:200]
            elif name == "country":
                data["country"] = text[:200]
        if streets:
            data["street"] = "\n".join(streets)
        return data

    def party(self, element: Element, path: str) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for child in element:
            name, text = _name(child), _text(child)
            if name == "id" and text:
                source = _attr(child, "source") or ""
                if path == "prospect.vendor" and source.lower() == "dealerflow":
                    self.dealer_id = text
                data.setdefault("id", text[:200])
                if source:
                    self.extras[f"{path}.id@source"] = source
            elif name in ("vendorname", "name") and text:
                data["name"] = text[:200]
            elif name in ("service", "url") and text:
                data[name] = text[:200]
            elif name == "email" and text and self._valid(_EMAIL, text):
                data["email"] = text
            elif name == "phone" and text:
                data["phone"] = text[:200]
            elif name == "contact":
                contact_name = _text(next((c for c in child if _name(c) == "name"), None))
                if contact_name:
                    data["contact_name"] = contact_name[:200]
                self.keep(f"{path}.contact", child)
            else:
                self.keep(f"{path}.{name}", child)
        return data


def read_adf(body: bytes, *, default_tz: tzinfo = CHINA_STANDARD_TIME) -> list[dict[str, Any]]:
    """Read an ADF document into one LeadSubmission-shaped dict per <prospect>.

    Raises AdfError for XML that is malformed, unsafe (DTD, entities, external references),
    too large or too deeply nested, or not ADF. Times without an offset are read in
    `default_tz`.
    """
    if len(body) > MAX_ADF_BYTES:
        raise AdfError(f"document too large: {len(body)} bytes > {MAX_ADF_BYTES}")
    text = _decode(body)
    try:
        root = _parse(text)
    except DefusedXmlException as exc:
        raise AdfError(
            f"unsafe XML refused ({type(exc).__name__}): DTDs and entities are not allowed"
        ) from None
    except ParseError as exc:
        raise AdfError(f"malformed XML: {exc}") from None
    if _name(root) == "prospect":
        prospects = [root]  # some senders omit the <adf> wrapper
    elif _name(root) == "adf":
        prospects = [p for p in root if _name(p) == "prospect"]
    else:
        raise AdfError(f"not an ADF document: root element is <{_name(root)}>, expected <adf>")
    if not prospects:
        raise AdfError("ADF document has no <prospect>")
    results = []
    for prospect in prospects:
        reader = _Reader(default_tz)
        data = reader.prospect(prospect)
        data["attributes"] = reader.extras
        results.append(data)
    return results
