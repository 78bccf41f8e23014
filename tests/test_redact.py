"""Credentials are masked in headers, URLs and request bodies."""

from __future__ import annotations

from addon.record.redact import MASK, Redactor


def test_secret_headers_are_masked_and_others_kept():
    headers = Redactor().header_items(
        [
            ("Authorization", "Bearer sk-1"),
            ("x-api-key", "sk-ant-2"),
            ("Cookie", "a=b"),
            ("x-goog-api-key", "g"),
            ("api-key", "azure"),
            ("Proxy-Authorization", "Basic abc"),
            ("anthropic-version", "2023-06-01"),
        ]
    )
    assert headers == {
        "Authorization": MASK,
        "x-api-key": MASK,
        "Cookie": MASK,
        "x-goog-api-key": MASK,
        "api-key": MASK,
        "Proxy-Authorization": MASK,
        "anthropic-version": "2023-06-01",
    }


def test_repeated_headers_are_joined():
    assert Redactor().header_items([("a", "1"), ("a", "2")]) == {"a": "1, 2"}


def test_query_keys_and_userinfo_are_masked():
    url = Redactor().url("https://u:pw@h.example/v1/x?key=s1&api_key=s2&model=m")
    assert "s1" not in url and "s2" not in url and "pw" not in url
    assert "model=m" in url and url.startswith("https://")


def test_url_without_query_is_unchanged():
    assert Redactor().url("https://api.openai.com/v1/responses") == (
        "https://api.openai.com/v1/responses"
    )


def test_body_secret_fields_are_masked_at_any_depth():
    body = {"model": "m", "api_key": "s", "auth": {"client_secret": "c"}, "l": [{"password": "p"}]}
    assert Redactor().body(body) == {
        "model": "m",
        "api_key": MASK,
        "auth": {"client_secret": MASK},
        "l": [{"password": MASK}],
    }


def test_extra_names_extend_every_list():
    redactor = Redactor(["X-Tenant-Token"])
    assert redactor.header_items([("x-tenant-token", "t")]) == {"x-tenant-token": MASK}
    assert "t1" not in redactor.url("https://h/p?x-tenant-token=t1")
    assert redactor.body({"x-tenant-token": "t"}) == {"x-tenant-token": MASK}
