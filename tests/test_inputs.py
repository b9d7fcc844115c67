"""Tests for crawler/inputs.py: URL lists given inline or as ``@file``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from crawler.inputs import InputError, read_url_list, validate_url
from extraction.urls import url_problem

if TYPE_CHECKING:
    from pathlib import Path


def test_comma_separated_list_in_order() -> None:
    value = "https://a.example/1,http://b.example/2,https://c.example/3"
    assert read_url_list(value, argument="start_urls") == [
        "https://a.example/1",
        "http://b.example/2",
        "https://c.example/3",
    ]


def test_comma_list_trims_white_space_and_skips_empty_parts() -> None:
    value = "  https://a.example/1 ,\thttps://b.example/2\n, ,,https://c.example/3,  "
    assert read_url_list(value, argument="start_urls") == [
        "https://a.example/1",
        "https://b.example/2",
        "https://c.example/3",
    ]


def test_repeats_removed_first_occurrence_kept() -> None:
    value = "https://b.example/,https://a.example/, https://b.example/ ,https://c.example/"
    assert read_url_list(value, argument="start_urls") == [
        "https://b.example/",
        "https://a.example/",
        "https://c.example/",
    ]


@pytest.mark.parametrize("value", [None, "", "   ", "\n\t"])
def test_empty_or_none_gives_empty_list(value: str | None) -> None:
    assert read_url_list(value, argument="start_urls") == []


def test_at_file_with_blank_lines_and_comments(tmp_path: Path) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_text(
        "# the seeds\n"
        "\n"
        "https://a.example/news,with,commas\n"
        "   \n"
        "  # an indented comment\n"
        "  https://b.example/  \n"
        "https://a.example/news,with,commas\n"
        "http://c.example/feed.xml\n",
        encoding="utf-8",
    )
    assert read_url_list(f"@{url_file}", argument="feeds") == [
        "https://a.example/news,with,commas",
        "https://b.example/",
        "http://c.example/feed.xml",
    ]


def test_at_file_value_itself_trimmed(tmp_path: Path) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_text("https://a.example/\n", encoding="utf-8")
    assert read_url_list(f"  @{url_file}  ", argument="feeds") == ["https://a.example/"]


def test_at_file_with_only_comments_is_empty(tmp_path: Path) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_text("# nothing yet\n\n", encoding="utf-8")
    assert read_url_list(f"@{url_file}", argument="feeds") == []


def test_at_file_missing_raises_input_error(tmp_path: Path) -> None:
    missing = tmp_path / "does-not-exist.txt"
    with pytest.raises(InputError, match="sitemaps") as excinfo:
        read_url_list(f"@{missing}", argument="sitemaps")
    assert "does-not-exist.txt" in str(excinfo.value)


def test_at_file_that_is_a_directory_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="feeds"):
        read_url_list(f"@{tmp_path}", argument="feeds")


def test_at_file_not_utf8_raises_input_error(tmp_path: Path) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_bytes(b"https://a.example/\xff\xfe\n")
    with pytest.raises(InputError, match="feeds"):
        read_url_list(f"@{url_file}", argument="feeds")


def test_input_error_is_a_value_error() -> None:
    assert issubclass(InputError, ValueError)


def test_invalid_url_in_at_file_names_the_argument(tmp_path: Path) -> None:
    url_file = tmp_path / "urls.txt"
    url_file.write_text("https://a.example/\nftp://b.example/\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^feeds: 'ftp://b\.example/'"):
        read_url_list(f"@{url_file}", argument="feeds")


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://ftp.example.org/pub/",
        "javascript:alert(1)",
        "mailto:news@example.org",
        "example.org/news",
        "//example.org/news",
    ],
)
def test_unsupported_scheme_rejected_naming_the_argument(url: str) -> None:
    with pytest.raises(InputError, match="unsupported scheme") as excinfo:
        read_url_list(f"https://ok.example/,{url}", argument="start_urls")
    message = str(excinfo.value)
    assert message.startswith("start_urls: ")
    assert repr(url) in message


@pytest.mark.parametrize("url", ["https://", "http:///path/only", "https://user@/x"])
def test_url_without_host_rejected(url: str) -> None:
    with pytest.raises(InputError, match="has no host") as excinfo:
        validate_url(url, argument="sitemaps")
    assert str(excinfo.value).startswith("sitemaps: ")


@pytest.mark.parametrize(
    "url", ["https://example.org:abc/", "https://example.org:99999/", "http://[::1/"]
)
def test_malformed_url_rejected(url: str) -> None:
    with pytest.raises(InputError, match="is not a valid URL") as excinfo:
        validate_url(url, argument="start_urls")
    assert str(excinfo.value).startswith("start_urls: ")
    # the user sees one clean message, not a chained traceback
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__context__ is None or excinfo.value.__suppress_context__


def test_url_with_inner_white_space_rejected() -> None:
    with pytest.raises(InputError, match="white space"):
        validate_url("https://example.org/a b", argument="start_urls")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("  https://example.org/news  ", "https://example.org/news"),
        ("http://example.org:8080/x?q=1#f", "http://example.org:8080/x?q=1#f"),
        ("HTTPS://Example.org/", "HTTPS://Example.org/"),
        ("https://[2001:db8::1]/feed", "https://[2001:db8::1]/feed"),
    ],
)
def test_valid_url_returned_stripped(url: str, expected: str) -> None:
    assert validate_url(url, argument="start_urls") == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        # what an argument with bytes that are not UTF-8 becomes (a crawl started, then failed)
        ("http://127.0.0.1:9/a\udcff", "is not UTF-8 text"),
        ("http://news.example:0/", "has port 0"),
        ("http://./", "has no host"),
        ("http://a..b/", "has a host name with an empty or too long label"),
        ("http://" + "ü" * 70 + ".example/", "has a host name with an empty or too long label"),
        ("http://" + "a" * 64 + ".example/", "has a host name with an empty or too long label"),
    ],
)
def test_urls_no_request_can_be_made_for_are_refused(url: str, problem: str) -> None:
    assert url_problem(url) == problem
    with pytest.raises(InputError, match=problem):
        validate_url(url, argument="urls")
