#!/usr/bin/env python3
"""A second, independent Fieldbook sync client.

Written only from docs/sync.md and the server's /openapi.json, with the Python 3.11 standard
library, to show that those two documents are enough to write a client from. It enrols a
technician's device, pulls its stream, carries out one whole visit through an outbox, pushes
it (and replays it), pushes one change the server must refuse, and pulls the result back.

    python3 fieldbook_client.py http://127.0.0.1:8080 tech1 demo-pw-123

The last line printed is `second_client: N passed, M failed`; the exit status is 0 only when
every step passed. Section names in the comments are those of docs/sync.md.
"""

import argparse
import calendar
import hashlib
import http.client
import json
import re
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib

PROTOCOL = 5
# RFC 8032 test vector 1's public key. Enrolment is idempotent per key (*Enrolment*): the same
# user enrolling it again gets the same device back, a new token and its `last_seq`, so the
# client numbers from `last_seq + 1` and runs again against the same server.
TEST_PUBLIC_KEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
PUSH_LIMIT = 200          # *Push*: the reference device sends at most 200 mutations per push
CHUNK = 4096              # *Blobs*: chunks may be up to 1 MiB; small here so uploads take several
DAY_MS = 86_400_000


class Failure(Exception):
    """A step did not go as docs/sync.md says."""


def check(condition, message):
    if not condition:
        raise Failure(message)


# --- Conventions: times are RFC 3339, written in UTC with 0, 3, 6 or 9 fraction digits -------
# Kept as integer nanoseconds since 1970, since the server writes up to 9 digits.
_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|z|[+-]\d\d:\d\d)$")


def parse_time(text):
    m = _TIME.match(text)
    check(m is not None, f"not an RFC 3339 time: {text!r}")
    secs = calendar.timegm(tuple(int(g) for g in m.groups()[:6]) + (0, 0, 0))
    frac = int((m[7] or "").ljust(9, "0"))
    offset = 0 if m[8] in "Zz" else (1 if m[8][0] == "+" else -1) * (int(m[8][1:3]) * 3600 + int(m[8][4:6]) * 60)
    return (secs - offset) * 10**9 + frac


def format_time(ns):
    secs, frac = divmod(ns, 10**9)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    for digits in (0, 3, 6, 9):
        if frac % 10 ** (9 - digits) == 0:
            return text + (f".{frac // 10 ** (9 - digits):0{digits}d}" if digits else "") + "Z"


def now_ms():
    return time.time_ns() // 1_000_000


# --- Conventions: everything a device makes is named with a fresh UUIDv7 (RFC 9562) ----------
_last_v7 = [0, 0]


def uuid7():
    ms, rand_a = now_ms(), secrets.randbits(12)
    if ms <= _last_v7[0]:  # same millisecond: count up in rand_a so ids still sort by creation
        ms, rand_a = _last_v7[0], _last_v7[1] + 1
        if rand_a > 0xFFF:
            ms, rand_a = ms + 1, 0
    _last_v7[:] = [ms, rand_a]
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | secrets.randbits(62)
    return str(uuid.UUID(int=value))


# --- Clock stamps: (millis, counter, node) as 12-8-16 lowercase hex ---------------------------
_HLC = re.compile(r"^[0-9a-f]{12}-[0-9a-f]{8}-[0-9a-f]{16}$")


def parse_hlc(text):
    check(isinstance(text, str) and _HLC.match(text), f"not a clock stamp: {text!r}")
    return tuple(int(part, 16) for part in text.split("-"))


def format_hlc(stamp):
    return f"{stamp[0]:012x}-{stamp[1]:08x}-{stamp[2]:016x}"


class Clock:
    def __init__(self):
        self.node = secrets.randbits(64)  # chosen once, at random, never shared
        self.last = (0, 0, self.node)

    def tick(self):
        """A new change's stamp: later than every stamp made or followed."""
        wall = now_ms()
        millis, counter, _ = self.last
        self.last = (millis, counter + 1, self.node) if millis >= wall else (wall, 0, self.node)
        return self.last

    def follow(self, remote):
        """After a page: follow its latest result stamp unless it is over a day ahead."""
        wall = now_ms()
        if remote[0] > wall + DAY_MS:
            return
        self.last = max(self.last, (wall, 0, self.node), (remote[0], remote[1], self.node))


# --- The compact layout on the wire: reading a page back into full changes -------------------
def wire_stamp(value, base_ns, field):
    """A stamp is whole milliseconds after a base, or the time itself as RFC 3339 text."""
    if isinstance(value, str):
        return parse_time(value)
    check(isinstance(value, int) and not isinstance(value, bool), f"malformed page: {field} is {value!r}")
    check(base_ns is not None, f"malformed page: {field} is a number with no base time")
    return base_ns + value * 1_000_000


def decode_work_order(w):
    base = parse_time(w["reported_at"])  # the base of every stamp of the work order

    def stamp(key):
        return format_time(wire_stamp(w[key], base, key)) if w.get(key) is not None else None

    return {
        "id": w["id"], "number": w["number"], "customer_id": w["customer_id"],
        "site_id": w["site_id"], "asset_id": w.get("asset_id"), "contact": w["contact"],
        "kind": w["kind"], "fault_level": w["fault_level"], "symptom": w.get("symptom", ""),
        "reported_by": w.get("reported_by", ""), "reported_at": format_time(base),
        "assignee": w.get("assignee"), "scheduled_for": stamp("scheduled_for"),
        "billing": w["billing"], "status": w["status"], "instructions": w.get("instructions", ""),
        "template_id": w.get("template_id"),
        "deadlines": {"respond_by": stamp("respond_by"), "arrive_by": stamp("arrive_by"),
                      "resolve_by": stamp("resolve_by"), "loaner_by": stamp("loaner_by")},
        "responded_at": stamp("responded_at"), "arrived_at": stamp("arrived_at"),
        "completed_at": stamp("completed_at"), "status_note": w.get("status_note"),
        "visit_version": w.get("visit_version", 0),
    }


def decode_run(work_order_id, results):
    """A run of wire results: `t` after the previous result's time, `hlc` implied when left out."""
    check(isinstance(results, list) and results, "malformed page: a run without results")
    records, prev_ns, prev_node = [], None, 0
    for r in results:
        recorded = wire_stamp(r["t"], prev_ns, "t")
        implied = (recorded // 1_000_000, 0, prev_node)  # whole Unix ms, counter 0, node before
        stamp = parse_hlc(r["hlc"]) if r.get("hlc") is not None else implied
        records.append({
            "id": r["id"], "work_order_id": work_order_id, "item_key": r["item_key"],
            "answer": r["answer"], "assessment": r["assessment"], "note": r.get("note", ""),
            "recorded_at": format_time(recorded), "hlc": format_hlc(stamp),
            "supersedes": r.get("supersedes")})
        prev_ns, prev_node = recorded, stamp[2]
    return records


def decode_page(page, after):
    """Reads a compact page back as [(version, kind, payload)], checking the layout as it goes."""
    check(isinstance(page.get("changes"), list), "malformed page: no `changes` array")
    check(isinstance(page.get("cursor"), int) and isinstance(page.get("more"), bool), "malformed page: cursor/more")
    changes, version = [], None
    for entry in page["changes"]:
        keys = set(entry) - {"v"}
        check(keys in ({"w"}, {"r", "results"}, {"op"}, {"x"}), f"malformed page: entry with keys {sorted(entry)}")
        if "v" in entry:
            version = entry["v"]
        else:
            check(version is not None, "malformed page: first entry without `v`")
            version += 1
        if "w" in entry:
            changes.append((version, "work_order", decode_work_order(entry["w"])))
        elif "x" in entry:
            changes.append((version, "removed", entry["x"]))
        elif "op" in entry:
            changes.append((version, "record", entry["op"]))
        else:
            for i, record in enumerate(decode_run(entry["r"], entry["results"])):
                if i:
                    version += 1
                changes.append((version, "record", {"type": "inspection_result", "record": record}))
    versions = [c[0] for c in changes]
    check(all(v > after for v in versions) and versions == sorted(set(versions)), f"page versions out of order: {versions}")
    check(page["cursor"] == (versions[-1] if versions else after), f"cursor {page['cursor']} is not the page's last version")
    return changes


def record_key(op):
    """A record's id; a photo has none and is named by its work order, blob and item key."""
    r = op["record"]
    return f"photo:{r['work_order_id']}:{r['blob']}:{r.get('item_key')}" if op["type"] == "photo" else r["id"]


# --- Images for the photo and the signature: small real PNGs made with zlib -----------------
def png(width, height, gray, rows):
    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0 if gray else 2, 0, 0, 0])
    pixels = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every row
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b"")


def make_photo():
    noise = secrets.token_bytes(48 * 3)  # a colourful, barely compressible 96x64 picture
    return png(96, 64, False, [bytes((x * 2 + noise[(x + y) % 144]) % 256 for x in range(96 * 3)) for y in range(64)])


def make_signature():
    import math
    rows = [bytearray(b"\xff" * 240) for _ in range(80)]
    for x in range(10, 230):  # a dark, wavy pen line
        y = int(40 + 25 * math.sin(x / 17.0) * math.cos(x / 41.0))
        for dy in (-1, 0, 1):
            rows[y + dy][x] = 0x18
    return png(240, 80, True, [bytes(r) for r in rows])


# --- Conventions / Versioning: every /v1 request says the protocol, and most carry the token --
class ApiError(Exception):
    def __init__(self, status, body):
        self.status, self.body = status, body
        self.code = body.get("code") if isinstance(body, dict) else None
        super().__init__(f"HTTP {status} {self.code}: {body.get('message') if isinstance(body, dict) else body}")


class Api:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.token = None
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only

    def open(self, method, path, query=None, body=None, ctype=None, headers=None):
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        req = urllib.request.Request(url, data=body, method=method)
        if path.startswith("/v1/"):
            req.add_header("fieldbook-protocol", str(PROTOCOL))
            if self.token and path != "/v1/enroll":
                req.add_header("authorization", "Bearer " + self.token)
        if ctype:
            req.add_header("content-type", ctype)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            return self.opener.open(req, timeout=60)
        except urllib.error.HTTPError as e:
            if e.code == 304:
                return e
            raw = e.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode("utf-8", "replace")
            raise ApiError(e.code, parsed) from None

    def json(self, method, path, payload=None, query=None, headers=None):
        body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
        with self.open(method, path, query, body, "application/json" if body is not None else None, headers) as resp:
            raw = resp.read()
            return resp.status, resp.headers, (json.loads(raw) if raw else None)


# --- The device: local copy, cursor, outbox, conflicts ---------------------------------------
class Device:
    def __init__(self, api):
        self.api = api
        self.work_orders, self.records, self.cursor = {}, {}, 0
        self.reference = {k: {} for k in ("policies", "customers", "sites", "assets", "templates", "users")}
        self.outbox, self.conflicts, self.local_records = [], [], {}
        self.clock = Clock()
        self.next_seq, self.user, self.device_id, self.credentials = 1, None, None, None
        self.parts, self.parts_etag = [], None

    # *Enrolment*
    def enrol(self, username, password, public_key):
        _, _, answer = self.api.json("POST", "/v1/enroll", {
            "username": username, "password": password,
            "device_name": "second client (Python)", "public_key": public_key})
        self.api.token, self.user, self.device_id = answer["token"], answer["user"], answer["device_id"]
        self.credentials = (username, password, public_key)
        # Waiting changes are numbered from last_seq + 1, in order.
        self.next_seq = answer["last_seq"] + 1
        for i, m in enumerate(self.outbox):
            m["seq"] = self.next_seq + i
        self.next_seq += len(self.outbox)
        return answer

    # *Applying a page*: reference, then the changes in order, then the clock, then the cursor
    def apply_page(self, page):
        changes = decode_page(page, self.cursor)
        for kind, items in page.get("reference", {}).items():
            for item in items:
                self.reference[kind][item["id"]] = item
        latest = None
        for _, kind, payload in changes:
            if kind == "work_order":
                self.work_orders[payload["id"]] = payload
            elif kind == "removed":
                self.work_orders.pop(payload, None)
                self.records = {k: op for k, op in self.records.items() if op["record"]["work_order_id"] != payload}
            else:
                self.records.setdefault(record_key(payload), payload)
                if payload["type"] == "inspection_result":
                    latest = max(latest or (0, 0, 0), parse_hlc(payload["record"]["hlc"]))
        if latest:
            self.clock.follow(latest)
        self.cursor = page["cursor"]
        return changes

    # *The stream: GET /v1/sync/pull/stream*, one compact page per line, until `more` is false
    def pull(self):
        pulled, restarted, stalls = [], False, 0
        while True:
            try:
                resp = self.api.open("GET", "/v1/sync/pull/stream", {"after": self.cursor, "pending": len(self.outbox)},
                                     headers={"accept-encoding": "gzip"})
            except ApiError as e:
                if e.code == "cursor_ahead" and not restarted:  # pull everything again, once
                    self.cursor, restarted = 0, True
                    continue
                raise
            check(resp.headers.get("content-type", "").startswith("application/x-ndjson"),
                  f"stream content-type is {resp.headers.get('content-type')}")
            gz = zlib.decompressobj(16 + zlib.MAX_WBITS) if resp.headers.get("content-encoding") == "gzip" else None
            buffer, pages, more, broken = b"", 0, None, None
            with resp:
                while broken is None:
                    try:
                        data = resp.read1(65536)
                        if not data:
                            break
                        buffer += gz.decompress(data) if gz else data
                    except (http.client.IncompleteRead, ConnectionError, zlib.error) as e:
                        broken = f"stream cut: {e}"  # keep the pages applied, pull again from the cursor
                        break
                    *lines, buffer = buffer.split(b"\n")  # lines are split after decompressing
                    for line in lines:  # each complete line is one page, applied with its cursor
                        try:
                            page = json.loads(line)
                            pulled += self.apply_page(page)
                        except (ValueError, KeyError, TypeError, Failure) as e:
                            broken = f"a line that does not parse: {e}"  # ends the stream like a cut
                            break
                        pages, more = pages + 1, page["more"]
            if more is False and broken is None:
                return pulled
            stalls = 0 if pages else stalls + 1
            check(stalls < 3, f"the stream brought no page three times running ({broken or 'no line at all'})")

    # *After the pull*: the parts catalog, with its ETag
    def refresh_parts(self):
        status, headers, body = self.api.json("GET", "/v1/parts", headers={"if-none-match": self.parts_etag} if self.parts_etag else None)
        if status == 200:
            self.parts, self.parts_etag = body, headers.get("etag")
        return status

    # *The mutation envelope*: numbered, named with a UUIDv7, stamped by the clock
    def queue(self, op_type, record, stamp=None):
        stamp = stamp or self.clock.tick()
        mutation = {"seq": self.next_seq, "id": uuid7(), "hlc": format_hlc(stamp), "op": {"type": op_type, "record": record}}
        self.next_seq += 1
        self.outbox.append(mutation)
        if op_type not in ("status", "dispatch"):
            self.local_records[record_key(mutation["op"])] = mutation["op"]
        return mutation

    # *Blobs*: ask which are missing, then upload each in order, resuming from its status
    def upload_blobs(self, blobs):
        _, _, answer = self.api.json("POST", "/v1/blobs/missing", {"ids": list(blobs)})
        for blob_id in answer["missing"]:
            data = blobs[blob_id]
            try:
                _, _, status = self.api.json("GET", f"/v1/blobs/{blob_id}/status")
                offset = status["received"]
            except ApiError as e:
                check(e.status == 404, str(e))
                offset = 0
            while offset < len(data):
                body = data[offset:offset + CHUNK]
                with self.api.open("PUT", f"/v1/blobs/{blob_id}", {"offset": offset, "total": len(data)},
                                   body, "application/octet-stream") as resp:
                    status = json.loads(resp.read())
                check(status["received"] == offset + len(body), f"upload status after a chunk: {status}")
                offset = status["received"]
            check(status["complete"] and status["total"] == len(data), f"upload did not complete: {status}")
        return answer["missing"]

    # *Push* and *What the client does with each answer*
    def push(self):
        exchanges, renumbered, reenrolled, retries = [], False, False, 0
        while self.outbox:
            batch = [dict(m) for m in self.outbox[:PUSH_LIMIT]]
            body = json.dumps({"mutations": batch}, ensure_ascii=False).encode()
            try:
                with self.api.open("POST", "/v1/sync/push", body=body, ctype="application/json") as resp:
                    answer = json.loads(resp.read())
            except ApiError as e:
                if e.code == "sequence_gap" and batch[0]["seq"] > e.body["resend_from"] and not renumbered:
                    for i, m in enumerate(self.outbox):  # the server lost acknowledged changes: renumber
                        m["seq"] = e.body["resend_from"] + i
                    self.next_seq, renumbered = e.body["resend_from"] + len(self.outbox), True
                    continue
                if e.status == 401 and not reenrolled and self.credentials:
                    self.enrol(*self.credentials)  # same key, same device; numbers from last_seq + 1
                    reenrolled = True
                    continue
                if e.status >= 500 and retries < 3:
                    retries += 1
                    time.sleep(1)
                    continue  # resend the same mutations: the replay rules make that safe
                raise
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError):
                if retries >= 3:
                    raise
                retries += 1
                time.sleep(1)
                continue
            self.settle(batch, answer)
            exchanges.append((body, batch, answer))
        if renumbered:
            self.cursor = 0  # after a server restore, pull everything again
        return exchanges

    def settle(self, batch, answer):
        outcomes = answer["outcomes"]
        check([o["seq"] for o in outcomes] == [m["seq"] for m in batch], f"outcomes do not match the batch: {outcomes}")
        check(answer["acked_through"] == batch[-1]["seq"], f"acked_through {answer['acked_through']} is not the batch's last number")
        sent = {m["seq"]: m for m in batch}
        for o in outcomes:  # drop only what this push sent, up to acked_through, whatever the outcome
            if o["seq"] <= answer["acked_through"] and o["outcome"] == "rejected":
                m = sent[o["seq"]]
                self.conflicts.append({"mutation": m, "code": o["code"], "message": o["message"]})
                if m["op"]["type"] not in ("status", "dispatch"):  # a refused record leaves the visit
                    self.local_records.pop(record_key(m["op"]), None)
        self.outbox = [m for m in self.outbox if not (m["seq"] in sent and m["seq"] <= answer["acked_through"])]


# --- Merge rules / What the server accepts: the answer a template gives ----------------------
def assess(item, answer):
    if answer["type"] == "check":
        return answer["value"]
    if answer["type"] == "reading":
        kind, value = item["kind"], answer["value"]
        low = kind.get("min") is not None and value < kind["min"]
        high = kind.get("max") is not None and value > kind["max"]
        return "abnormal" if low or high else "normal"
    return "normal"  # text and photo answers


def good_answer(item):
    kind = item["kind"]
    if kind["type"] == "check":
        return {"type": "check", "value": "normal"}
    if kind["type"] == "reading":
        low, high = kind.get("min"), kind.get("max")
        value = (low + high) / 2 if low is not None and high is not None else (low + 1 if low is not None else (high - 1 if high is not None else 1.0))
        return {"type": "reading", "value": float(value)}
    if kind["type"] == "text":
        return {"type": "text", "value": "读数 12345 kWh"}
    return {"type": "photo_attached"}


# --- The steps ----------------------------------------------------------------------------------
class Run:
    """What the steps share."""

    def __init__(self, server, username, password, public_key):
        self.api = Api(server)
        self.device = Device(self.api)
        self.username, self.password, self.public_key = username, password, public_key
        self.wo = self.template = None
        self.visit, self.bogus, self.blobs, self.exchanges = [], None, {}, []


def step_enrol(run):
    """*Versioning* and *Enrolment*."""
    _, _, health = run.api.json("GET", "/healthz")
    check(health["status"] == "ok" and health["protocol"] == PROTOCOL, f"/healthz says {health}")
    try:
        with run.api.opener.open(run.api.base + "/v1/sync/pull", timeout=30):
            raise Failure("a /v1 request without fieldbook-protocol was answered")
    except urllib.error.HTTPError as e:
        check(e.code == 400 and json.loads(e.read())["code"] == "protocol_missing", f"no protocol header: HTTP {e.code}")
    answer = run.device.enrol(run.username, run.password, run.public_key)
    check(re.fullmatch(r"[A-Za-z0-9_-]{43}", answer["token"]) is not None, "the token is not 43 base64url characters")
    check(answer["user"]["username"] == run.username and answer["user"]["role"] == "technician", f"enrolled as {answer['user']}")
    uuid.UUID(answer["device_id"])
    print(f"  device {answer['device_id']} for {run.username} ({answer['user']['name']}); "
          f"last_seq {answer['last_seq']}, so the next change is number {run.device.next_seq}")


def step_pull(run):
    """*Pull*, *The stream*, *The compact layout on the wire*, *Applying a page*, *After the pull*."""
    dev = run.device
    changes = dev.pull()
    check(changes and dev.cursor == changes[-1][0], "the first pull brought nothing")
    mine = [wo for wo in dev.work_orders.values() if wo["assignee"] == dev.user["id"]]
    check(mine, "no work order assigned to this technician")
    ref = dev.reference
    for wo in dev.work_orders.values():  # everything a work order refers to came in a page's reference
        check(wo["customer_id"] in ref["customers"] and wo["site_id"] in ref["sites"], f"{wo['number']}: customer or site missing")
        check(ref["customers"][wo["customer_id"]]["policy_id"] in ref["policies"], f"{wo['number']}: policy missing")
        check(wo["asset_id"] is None or wo["asset_id"] in ref["assets"], f"{wo['number']}: asset missing")
        check(wo["template_id"] is None or wo["template_id"] in ref["templates"], f"{wo['number']}: template missing")
        check(wo["assignee"] is None or wo["assignee"] in ref["users"], f"{wo['number']}: assignee missing")
        # The decoded work order must equal the full one the server answers on its own endpoint.
        _, _, full = run.api.json("GET", f"/v1/work-orders/{wo['id']}")
        diff = sorted(k for k in set(full) | set(wo) if full.get(k, "<absent>") != wo.get(k, "<absent>"))
        check(not diff, f"{wo['number']}: decoded fields differ from GET /v1/work-orders/{{id}}: "
                        + "; ".join(f"{k}: {wo.get(k)!r} vs {full.get(k)!r}" for k in diff))
    try:  # a cursor past the end of the stream is refused (*Pull*)
        run.api.open("GET", "/v1/sync/pull/stream", {"after": dev.cursor + 1000}).close()
        raise Failure("a cursor past the end of the stream was accepted")
    except ApiError as e:
        check(e.status == 409 and e.code == "cursor_ahead", f"cursor past the end: {e}")
    saved = dev.cursor
    again = dev.pull()
    check(again == [] and dev.cursor == saved, f"a second pull from cursor {saved} brought {len(again)} changes")
    check(dev.refresh_parts() == 200 and dev.parts_etag, "GET /v1/parts gave no catalog with an ETag")
    check(dev.refresh_parts() == 304, "GET /v1/parts with If-None-Match was not 304")
    print(f"  {len(changes)} changes: {len(dev.work_orders)} work orders ({len(mine)} assigned to me), "
          f"{len(dev.records)} records, {sum(map(len, ref.values()))} reference records; cursor {dev.cursor}; "
          f"decoded work orders match GET /v1/work-orders/{{id}}; second pull empty; {len(dev.parts)} parts (304 on re-ask)")


def step_outbox(run):
    """*The mutation envelope*, *Clock stamps*, *The ten operations*: the visit, queued."""
    dev, me = run.device, run.device.user["id"]
    candidates = [wo for wo in dev.work_orders.values()
                  if wo["assignee"] == me and wo["status"] == "assigned" and wo["template_id"]]
    check(candidates, f"{dev.user['username']} has no work order still `assigned` with a checklist to visit "
                      "(each run completes one; start from a fresh demo database)")
    # Prefer a checklist that asks for a photo on an item, to exercise photo_required.
    candidates.sort(key=lambda wo: not any(i["photo_required"] or i["kind"]["type"] == "photo"
                                           for i in dev.reference["templates"][wo["template_id"]]["items"]))
    wo = run.wo = candidates[0]
    template = run.template = dev.reference["templates"][wo["template_id"]]
    wid, first_seq = wo["id"], dev.next_seq
    photo, signature = make_photo(), make_signature()
    run.blobs = {hashlib.sha256(b).hexdigest(): b for b in (photo, signature)}
    photo_id, signature_id = hashlib.sha256(photo).hexdigest(), hashlib.sha256(signature).hexdigest()

    def at():
        return format_time(now_ms() * 1_000_000)

    def status(action):
        run.visit.append(dev.queue("status", {"work_order_id": wid, "action": action, "at": at()}))

    status("set_off")
    status("arrive")
    for item in template["items"]:  # every required item, answered and assessed as the template says
        if not item["required"]:
            continue
        time.sleep(0.002)  # answers are taken apart in time, so most travel with implied stamps
        stamp, answer = dev.clock.tick(), good_answer(item)
        run.visit.append(dev.queue("inspection_result", {
            "id": uuid7(), "work_order_id": wid, "item_key": item["key"], "answer": answer,
            # recorded 0.7 ms into the stamp's millisecond: its implied stamp truncates to stamp[0]
            "assessment": assess(item, answer), "note": "", "recorded_at": format_time(stamp[0] * 1_000_000 + 700_000),
            "hlc": format_hlc(stamp), "supersedes": None}, stamp))
    arrived = run.visit[1]["op"]["record"]["at"]
    run.visit.append(dev.queue("fault_record", {
        "id": uuid7(), "work_order_id": wid, "symptom": wo["symptom"] or "设备报警", "cause": "电源模块老化",
        "action": "更换电源模块", "result": "恢复正常", "category": "电源", "started_at": arrived,
        "ended_at": at(), "loaner_provided_at": None, "recorded_at": at(), "supersedes": None}))
    # A change the server must refuse, in the middle of the batch: a note on no work order.
    run.bogus = dev.queue("note", {"id": uuid7(), "work_order_id": uuid7(), "author": me,
                                   "text": "this work order does not exist", "written_at": at()})
    part = dev.parts[0] if dev.parts else {"part_number": "PSU-750", "name": "电源模块", "needs_customer_approval": False, "unit_price_cents": 68000}
    billing = {"type": "paid", "unit_price_cents": part["unit_price_cents"]} if wo["billing"] == "paid" else {"type": wo["billing"]}
    run.visit.append(dev.queue("part_usage", {
        "id": uuid7(), "work_order_id": wid, "part_number": part["part_number"], "name": part["name"],
        "quantity": 1, "serial": "SN" + secrets.token_hex(4).upper(), "billing": billing, "old_part_returned": True,
        "needs_customer_approval": part["needs_customer_approval"], "recorded_at": at(), "supersedes": None}))
    photo_items = [i["key"] for i in template["items"] if i["photo_required"] or i["kind"]["type"] == "photo"]
    for key in photo_items or [None]:
        run.visit.append(dev.queue("photo", {"blob": photo_id, "work_order_id": wid, "item_key": key,
                                             "caption": "现场照片", "taken_at": at()}))
    run.visit.append(dev.queue("note", {"id": uuid7(), "work_order_id": wid, "author": me,
                                        "text": "second client visit", "written_at": at()}))
    run.visit.append(dev.queue("sign_off", {
        "id": uuid7(), "work_order_id": wid, "signer_name": "王经理", "opinion": "满意", "satisfaction": 5,
        "signature": signature_id, "signed_at": at()}))
    # The device checks the visit is complete before `complete` (*What the server accepts*).
    ops = [m["op"] for m in run.visit]
    answered = {op["record"]["item_key"] for op in ops if op["type"] == "inspection_result"}
    photographed = {op["record"]["item_key"] for op in ops if op["type"] == "photo"}
    check(all(i["key"] in answered for i in template["items"] if i["required"]), "a required item is unanswered")
    check(all(i["key"] in photographed for i in template["items"] if i["photo_required"]), "a required photo is missing")
    check(any(op["type"] == "sign_off" for op in ops), "no sign-off")
    status("complete")

    queued = dev.outbox
    check([m["seq"] for m in queued] == list(range(first_seq, first_seq + len(queued))), "numbers are not consecutive")
    ids = [uuid.UUID(m["id"]) for m in queued]
    check(all(u.version == 7 and u.variant == uuid.RFC_4122 for u in ids), "a mutation id is not a UUIDv7")
    check([str(u) for u in ids] == sorted(str(u) for u in ids) and len(set(ids)) == len(ids), "ids do not sort by creation")
    stamps = [parse_hlc(m["hlc"]) for m in queued]
    check(all(a < b for a, b in zip(stamps, stamps[1:])), "clock stamps do not rise")
    check(all(s[2] == dev.clock.node for s in stamps), "a stamp has another node")
    check(all(m["op"]["record"]["hlc"] == m["hlc"] for m in queued if m["op"]["type"] == "inspection_result"),
          "a result's hlc is not its mutation's stamp")
    print(f"  work order {wo['number']} ({template['code']}): {len(queued)} mutations queued, "
          f"numbers {first_seq}..{queued[-1]['seq']}, node {dev.clock.node:016x}")


def step_visit(run):
    """*Blobs*, then *Push* and *The answer*: settle, dropping only what was acknowledged."""
    dev = run.device
    missing = dev.upload_blobs(run.blobs)
    _, _, after = run.api.json("POST", "/v1/blobs/missing", {"ids": list(run.blobs)})
    check(after["missing"] == [], f"blobs still missing after upload: {after['missing']}")
    sent = list(dev.outbox)
    run.exchanges = dev.push()
    check(dev.outbox == [], f"{len(dev.outbox)} mutations left in the outbox")
    outcomes = {o["seq"]: o for _, _, answer in run.exchanges for o in answer["outcomes"]}
    check(set(outcomes) == {m["seq"] for m in sent}, "not every mutation was answered")
    for m in run.visit:
        o = outcomes[m["seq"]]
        check(o["outcome"] == "applied", f"{m['op']['type']} #{m['seq']} was {o['outcome']}: {o.get('code')} {o.get('message')}")
    for blob_id, data in run.blobs.items():  # a device checks downloaded bytes against the id
        with run.api.open("GET", f"/v1/blobs/{blob_id}") as resp:
            check(hashlib.sha256(resp.read()).hexdigest() == blob_id, f"blob {blob_id[:12]} came back changed")
    sizes = ", ".join(f"{len(d)} bytes in {-(-len(d) // CHUNK)} chunk(s)" for d in run.blobs.values())
    print(f"  uploaded {len(missing)} missing blob(s) ({sizes}); pushed {len(sent)} mutations in "
          f"{len(run.exchanges)} push(es): {len(run.visit)} applied, {len(dev.conflicts)} kept as conflicts")


def step_replay(run):
    """*Replays*: the same batch again is answered from what was stored, and changes nothing."""
    for body, batch, first in run.exchanges:
        with run.api.open("POST", "/v1/sync/push", body=body, ctype="application/json") as resp:
            again = json.loads(resp.read())
        check(again["acked_through"] == first["acked_through"], "the replay acknowledged another number")
        for was, now in zip(first["outcomes"], again["outcomes"]):
            expected = {"seq": was["seq"], "outcome": "already_applied"} if was["outcome"] == "applied" else was
            check(now == expected, f"replay of #{was['seq']}: {now}, expected {expected}")
    check(run.device.outbox == [], "the replay changed the outbox")
    n = sum(len(b) for _, b, _ in run.exchanges)
    print(f"  {n} mutations sent again: every applied one answered already_applied, the refused one refused alike")


def step_refusal(run):
    """*The answer*, *Conflicts*: one refusal does not hold up the rest of the batch."""
    dev, bogus = run.device, run.bogus
    outcome = next(o for _, _, a in run.exchanges for o in a["outcomes"] if o["seq"] == bogus["seq"])
    check(outcome["outcome"] == "rejected" and outcome["code"] == "not_found", f"the note on no work order: {outcome}")
    later = [m for m in run.visit if m["seq"] > bogus["seq"]]
    check(later, "nothing followed the refused change in its batch")
    check(all(o["outcome"] == "applied" for _, _, a in run.exchanges for o in a["outcomes"] if o["seq"] > bogus["seq"]),
          "a change after the refusal was not applied")
    check([c["mutation"]["id"] for c in dev.conflicts] == [bogus["id"]], "the refusal is not kept as the device's conflict")
    check(record_key(bogus["op"]) not in dev.local_records, "the refused record is still in the visit")
    _, _, listed = run.api.json("GET", "/v1/conflicts", query={"work_order": bogus["op"]["record"]["work_order_id"]})
    check(len(listed) == 1, f"the server lists {len(listed)} conflicts for it (the replay must add none)")
    c = listed[0]
    check(c["code"] == "not_found" and c["seq"] == bogus["seq"] and c["local"] == bogus["op"] and c["hlc"] == bogus["hlc"]
          and c["server"] is None and c["work_order_number"] is None and c["device_id"] == dev.device_id,
          f"the server's conflict: {c}")
    print(f"  #{bogus['seq']} rejected ({outcome['code']}: {outcome['message']}); the {len(later)} changes after it "
          f"applied; listed once on the server as conflict {c['id']}")


def step_pull_again(run):
    """*Pull* again: the work order reads as completed and every pushed record comes back."""
    dev, wid = run.device, run.wo["id"]
    before = dev.clock.last
    changes = dev.pull()
    wo = dev.work_orders[wid]
    steps = {m["op"]["record"]["action"]: m["op"]["record"]["at"] for m in run.visit if m["op"]["type"] == "status"}
    check(wo["status"] == "completed", f"the work order is {wo['status']}")
    check(wo["completed_at"] == steps["complete"] and wo["arrived_at"] == steps["arrive"], "arrival or completion time differs")
    check(run.wo["responded_at"] is not None or wo["responded_at"] == steps["set_off"], "responded_at is not the set-off time")
    pulled = {record_key(op): op for _, kind, op in changes if kind == "record"}
    for key, op in dev.local_records.items():
        check(key in pulled, f"{op['type']} {key} did not come back")
        check(pulled[key] == op, f"{op['type']} came back changed:\n  sent {op}\n  got  {pulled[key]}")
    check(record_key(run.bogus["op"]) not in pulled, "the refused note came back")
    results = [parse_hlc(op["record"]["hlc"]) for op in pulled.values() if op["type"] == "inspection_result"]
    check(dev.clock.last >= max(results) and dev.clock.last >= before, "the clock did not follow the pulled stamps")
    check(dev.pull() == [], "a further pull was not empty")
    print(f"  {len(changes)} changes; {wo['number']} is completed at {wo['completed_at']}; "
          f"all {len(dev.local_records)} records came back as pushed; cursor {dev.cursor}")


STEPS = [
    ("enrol a device", step_enrol),
    ("pull every change from the stream, decode it, second pull empty", step_pull),
    ("outbox: the visit queued with UUIDv7 ids and clock stamps", step_outbox),
    ("visit: blobs uploaded in chunks, outbox pushed and settled", step_visit),
    ("replay: the same batch answered as a replay", step_replay),
    ("refusal: a change on no work order rejected, the rest applied", step_refusal),
    ("pull again: work order completed, records back", step_pull_again),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("server", help="the server's base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("username")
    parser.add_argument("password")
    parser.add_argument("--public-key", default=TEST_PUBLIC_KEY, help="the device's Ed25519 public key (64 hex)")
    args = parser.parse_args()
    run = Run(args.server, args.username, args.password, args.public_key)
    passed = failed = 0
    for number, (title, step) in enumerate(STEPS, 1):
        if failed:  # every step builds on the ones before it
            print(f"FAIL {number}. {title}: not run, an earlier step failed")
            failed += 1
            continue
        try:
            step(run)
            print(f"PASS {number}. {title}")
            passed += 1
        except (Failure, ApiError, KeyError, ValueError, OSError, http.client.HTTPException) as e:
            print(f"FAIL {number}. {title}: {type(e).__name__}: {e}")
            failed += 1
    print(f"second_client: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
