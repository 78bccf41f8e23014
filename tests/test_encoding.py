"""Content-encoding is undone chunk by chunk on the side, or refused with a reason."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from addon.wire.encoding import ContentDecoder, zstd
from tests.streams import split_at

BODY = b"event: ping\ndata: {}\n\n" * 200

ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstd.compress,
}


def raw_deflate(data: bytes) -> bytes:
    obj = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return obj.compress(data) + obj.flush()


def decode_all(encoding: str, chunks: list[bytes]) -> tuple[bytes, ContentDecoder]:
    decoder = ContentDecoder(encoding)
    out = b"".join(decoder.feed(c) for c in chunks) + decoder.flush()
    return out, decoder


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(ENCODERS)), st.lists(st.integers(0, 2000), max_size=20))
def test_every_encoding_decodes_the_same_for_any_chunking(name, cuts):
    encoded = ENCODERS[name](BODY)
    out, decoder = decode_all(name, split_at(encoded, cuts))
    assert out == BODY
    assert decoder.error is None


def test_raw_deflate_without_zlib_header_is_accepted():
    out, decoder = decode_all("deflate", [raw_deflate(BODY)])
    assert out == BODY and decoder.error is None


def test_concatenated_gzip_members_are_all_decoded():
    out, _ = decode_all("gzip", [gzip.compress(b"a" * 10) + gzip.compress(b"b" * 10)])
    assert out == b"a" * 10 + b"b" * 10


def test_stacked_encodings_are_undone_last_first():
    encoded = brotli.compress(gzip.compress(BODY))
    out, decoder = decode_all("gzip, br", [encoded])
    assert out == BODY and decoder.error is None


def test_identity_is_no_encoding():
    assert not ContentDecoder("identity").active


def test_unknown_encoding_is_refused_with_its_name():
    decoder = ContentDecoder("compress")
    assert decoder.error is not None and "'compress'" in decoder.error


def test_truncated_compressed_stream_is_reported():
    encoded = gzip.compress(BODY)
    _, decoder = decode_all("gzip", [encoded[: len(encoded) // 2]])
    assert decoder.error is not None and "ended early" in decoder.error


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_body_that_is_not_encoded_as_claimed_is_reported(name):
    _, decoder = decode_all(name, [b"data: plain text, not compressed\n\n"])
    assert decoder.error is not None
