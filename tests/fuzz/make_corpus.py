#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into tests/fuzz/corpus/.

Run by hand after changing a target's input format; the files are committed.
The tokens are signed with the targets' secret for their fixed clock
(request_parser_fuzzer.cc, jwt_verify_fuzzer.cc), so they never expire.
"""
import base64
import hashlib
import hmac
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = b"fuzz-secret"
NOW = 1_800_000_000
SEP = b"\xff"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(claims: dict, header=None, secret=SECRET) -> str:
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def write(target: str, name: str, data: bytes) -> None:
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def request_parser() -> None:
    t = "request_parser"
    bodies = {
        0: [b'{"to_user":"bob","amount":50,"note":"lunch","transaction_id":"t-9"}',
            b'{"to_user":"Bob","amount":5.0}', b'{"to_user":"bob","amount":"5"}',
            b'{"to_user":"bob","amount":99999999999999999999}', b'{"to_user":"bob"}',
            b'{"to_user":"bob","amount":1,"to_user":"carol"}', b'[1,2,3]', b'',
            b'{"to_user":"b\xc3\xa9b","amount":-1,"note":"\\ud800"}',
            b'{"to_user":"bob","amount":1,"x":[[[[[[{"a":null}]]]]]]} '],
        1: [b'{"username":"alice","amount":100,"reason":"gift","transaction_id":"m-1"}',
            b'{"username":"alice","amount":9007199254740992}', b'{"amount":1}'],
        2: [b'{"username":"dave"}', b'{"username":null}', b'{"username":"A.B-c_9"}'],
        3: [b'{"transaction_id":"t-1","note":"paid"}', b'{"transaction_id":1,"note":"x"}',
            b'{"transaction_id":"t-1","note":"' + "é".encode() * 501 + b'"}'],
    }
    for mode, items in bodies.items():
        for i, body in enumerate(items):
            write(t, f"body{mode}_{i}", bytes([mode]) + body)
    for i, query in enumerate([b"skip=0&limit=5", b"limit=100&skip=1", b"limit=0", b"skip=-1",
                               b"limit=1e3&limit=2", b"skip=%31&limit=%", b""]):
        write(t, f"transactions_query_{i}", bytes([4]) + query)
    alice = token({"sub": "alice", "exp": NOW + 3600, "iat": NOW, "type": "access"})
    for i, query in enumerate([f"token={alice}", f"token={alice}&since=3", f"since=1&token={alice}&since=x",
                               "token=", f"token={alice}&since=99999999999999999999"]):
        write(t, f"ws_query_{i}", bytes([5]) + query.encode())
    for i, target in enumerate([b"/sbd_tokens", b"/healthz", b"/metrics", b"/", b"/nope?x=1",
                                b"//sbd_tokens/../x", b"/sbd_tokens/transactions?limit=2#frag"]):
        write(t, f"target_{i}", bytes([6]) + target)
    commands = [
        (0, b'{"to_user":"bob","amount":50,"note":"x"}'),
        (0, b'{"to_user":"bob","amount":5,"transaction_id":"t-1"}'),  # Duplicate of the seed.
        (0, b'{"to_user":"bob","amount":6,"transaction_id":"t-1"}'),  # Conflict.
        (0, b'{"to_user":"alice","amount":1}'),
        (0, b'{"to_user":"bob","amount":1000}'),
        (1, b'{"username":"bob","amount":9007199254740991}'),
        (1, b'{"username":"alice","amount":7,"transaction_id":"mint-1"}'),
        (2, b'{"username":"carol"}'),
        (2, b'{"username":"alice"}'),
        (3, b'{"transaction_id":"t-1","note":"paid back"}'),
        (3, b'{"transaction_id":"mint-1","note":"x"}'),
        (3, b'{"transaction_id":"nope","note":"x"}'),
    ]
    for i, (route, body) in enumerate(commands):
        write(t, f"command_{i}", bytes([7, route]) + body)


def jwt_verify() -> None:
    t = "jwt_verify"
    good = {"sub": "alice", "exp": NOW + 3600, "iat": NOW, "type": "access"}
    raw = [
        token(good), token({**good, "role": "admin"}), token({**good, "exp": NOW - 1}),
        token(good, secret=b"wrong"), token(good, header={"alg": "none"})[:-43],
        token(good, header={"alg": "HS512"}), "a.b.c", "....", "", "e30.e30.",
        token({"exp": NOW + 60}), token({**good, "type": "refresh"}),
        token({**good, "exp": 1e300}), token({**good, "exp": "1900000000"}),
        token(good, header={"alg": "hs256", "typ": "JWT"}),
        token(good, header={"alg": "HS256", "crit": ["exp"]}),
        token({**good, "nbf": NOW + 600}), token({**good, "nbf": NOW + 10.5}),
        token({**good, "nbf": "soon"}),
        token({**good, "tenant_memberships": [{"tenant_id": f"t-{i}", "role": "member"}
                                              for i in range(150)]}),
    ]
    for i, tok in enumerate(raw):
        write(t, f"raw_{i}", b"\x00" + tok.encode())
    headers = [b'{"alg":"HS256","typ":"JWT"}', b'{"alg":"none"}', b'{"alg":"HS384"}',
               b'{"alg":"HS256","kid":"../../x"}', b'[]', b'{"alg":"HS256"',
               b'{"alg":"hs256","typ":"JWT"}', b'{"alg":"HS256","crit":[]}']
    payloads = [json.dumps(good).encode(), b'{"sub":"","exp":1900000000}',
                b'{"sub":"a\\u0000b","exp":1900000000}', b'{"sub":["x"],"exp":1900000000}',
                b'{"sub":"x","exp":18446744073709551616}', b'{"sub":"x","exp":-1}', b'null',
                b'{"sub":"x","exp":1900000000,"sub":"y"}']
    n = 0
    for header in headers:
        for flags in (0, 2, 3, 4, 8):
            payload = payloads[n % len(payloads)]
            write(t, f"structured_{n}", b"\x01" + bytes([flags]) + header + SEP + payload + SEP +
                  b"sig" + SEP + b"junk")
            n += 1
    for i, subject in enumerate([b"alice", b"Bob", b"x" * 5000, "é".encode(), b"\xc3", b"a\"b\\c"]):
        write(t, f"roundtrip_{i}", b"\x02" + subject)


def frame(opcode: int, payload: bytes, fin: bool = True, mask: bytes = b"\x01\x02\x03\x04") -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def websocket_frames() -> None:
    t = "websocket_frames"
    ping = b'{"type":"ping"}'
    close = frame(8, struct.pack(">H", 1000) + b"bye")
    seeds = {
        "ping": frame(1, ping) + close,
        "pings": frame(1, ping) * 3 + frame(1, b'{"type":"pong"}') + close,
        "fragmented": frame(1, ping[:5], fin=False) + frame(9, b"hi") + frame(0, ping[5:]) + close,
        "binary": frame(2, b"\x00\x01") + frame(1, ping) + close,
        "control_ping": frame(9, b"are you there") + frame(10, b"") + close,
        "too_big": frame(1, b'{"type":"ping","x":"' + b"a" * 5000 + b'"}') + close,
        "bad_utf8": frame(1, b'{"type":"\xff"}') + close,
        "unmasked": bytes([0x81, len(ping)]) + ping,
        "reserved_bits": bytes([0xF1]) + frame(1, ping)[1:],
        "no_close": frame(1, ping),
        "length16": frame(1, b" " * 200 + ping),
        "close_bad_code": frame(8, struct.pack(">H", 999)),
    }
    for name, data in seeds.items():
        write(t, name, b"\x00" + data)
    upgrade = (b"GET /ws?token=x HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
               b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               b"Sec-WebSocket-Version: 13\r\n\r\n")
    write(t, "raw_handshake", b"\x01" + upgrade + frame(1, ping) + close)
    write(t, "raw_handshake_bad", b"\x01" + upgrade.replace(b"13", b"8") + frame(1, ping))


def replay_corrupt_db() -> None:
    t = "replay_corrupt_db"

    def patch(offset: int, data: bytes) -> bytes:
        return struct.pack("<I", offset)[:3] + bytes([len(data)]) + data

    seeds = {
        "clean_table": b"\x00", "clean_json_notifications": b"\x05", "clean_csv_account": b"\x0a",
        "clean_server_open": b"\x10",
        "magic": b"\x00" + patch(0, b"\x01"),
        "page_size": b"\x01" + patch(16, b"\x7f\x00"),
        "page_count": b"\x12" + patch(28, b"\x00\x00\xff\x00"),
        "freelist": b"\x00" + patch(32, b"\x00\x00\x00\x09"),
        "schema_cookie": b"\x00" + patch(40, b"\x00\x00\x00\x05"),
        "user_version": b"\x10" + patch(60, b"\x00\x00\x00\x03"),
        "application_id": b"\x00" + patch(68, b"\x01"),
        "page1_btree": b"\x00" + patch(100, b"\x03\x00\x00"),
        "schema_sql": b"\x00" + patch(3900, b"\x20\x20\x20\x20"),
        "page2_header": b"\x10" + patch(4096, b"\x08"),
        "page2_cells": b"\x02" + patch(4104, b"\x00\x10"),
        "row_payload_tail": b"\x04" + patch(8000, b"\x01\x02\x03\x04\x05\x06\x07\x08"),
        "row_amount": b"\x00" + patch(7900, b"\x40"),
        "truncated": b"\x20" + struct.pack("<H", 6000),
        "truncated_header": b"\x20" + struct.pack("<H", 50),
        "until_seq": b"\x41\x05" + patch(7000, b"\xff"),
        "many": b"\x10" + patch(24, b"\x01") + patch(4100, b"\x02\x02") + patch(6000, b"\x80" * 16),
    }
    for name, data in seeds.items():
        write(t, name, data)


if __name__ == "__main__":
    request_parser()
    jwt_verify()
    websocket_frames()
    replay_corrupt_db()
