"""Tests for pipelines/_charset.py: BOM, header, ``<meta>``, lying labels and detection."""

from __future__ import annotations

import codecs
import gzip
import re

import pytest

from demo.site import PAGES_DIR
from extraction.charset import decode_html

RUSSIAN = (
    "Правительство объявило новые меры поддержки экономики. "
    "Эксперты считают, что эти решения помогут малому бизнесу пережить трудный период, "
    "жители крупных городов почувствуют изменения уже в следующем месяце."
)
FRENCH = "Café crème, déjà vu — la façade naïve de l\u2019hôtel était très élégante."
JAPANESE = (
    "日本語のニュース記事です。今日は東京で大きな会議が開かれ、多くの人々が参加しました。"
    "政府は新しい経済政策を発表し、専門家たちはその影響について議論しています。"
    "地方の自治体も独自の支援策を検討しており、来月には具体的な内容が明らかになる見通しです。"
)
# 镕, 喆 and 堃 are in GBK/GB18030 but not in GB2312 (common in personal names).
CHINESE_GBK_ONLY = "朱镕基总理会见了张喆和李堃。新闻报道\uff1a今天天气很好\uff0c市民纷纷外出。"


def page(body: str, head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head>{head}<title>News</title></head>"
        f"<body><article><p>{body}</p></article></body></html>"
    )


def canonical(encoding: str) -> str:
    return codecs.lookup(encoding).name


def assert_clean(text: str, expected: str) -> None:
    assert expected in text
    assert "\ufffd" not in text


def test_utf8_bom_wins_over_a_wrong_header() -> None:
    body = codecs.BOM_UTF8 + page(RUSSIAN).encode("utf-8")
    text, encoding = decode_html(body, "text/html; charset=windows-1251")
    assert canonical(encoding) == "utf-8"
    assert_clean(text, RUSSIAN)
    assert not text.startswith("\ufeff")
    assert text.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("bom", "codec", "expected"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
    ],
)
def test_utf16_bom(bom: bytes, codec: str, expected: str) -> None:
    body = bom + page(RUSSIAN).encode(codec)
    text, encoding = decode_html(body, "text/html; charset=iso-8859-1")
    assert canonical(encoding) == expected
    assert_clean(text, RUSSIAN)
    assert text.startswith("<!DOCTYPE html>")


def test_charset_only_in_http_header() -> None:
    body = page(RUSSIAN).encode("windows-1251")
    text, encoding = decode_html(body, "text/html; charset=windows-1251")
    assert canonical(encoding) == "cp1251"
    assert_clean(text, RUSSIAN)


def test_charset_only_in_meta_charset() -> None:
    body = page(RUSSIAN, '<meta charset="windows-1251">').encode("windows-1251")
    text, encoding = decode_html(body, "text/html")
    assert canonical(encoding) == "cp1251"
    assert_clean(text, RUSSIAN)


def test_charset_in_meta_http_equiv() -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
    body = page(RUSSIAN, head).encode("koi8-r")
    text, encoding = decode_html(body, None)
    assert canonical(encoding) == "koi8-r"
    assert_clean(text, RUSSIAN)


def test_header_charset_preferred_over_meta_when_both_fit() -> None:
    # Latin-1 letters: valid in both labels, the header is believed.
    body = page(FRENCH.replace("\u2019", "'").replace("—", "-"), '<meta charset="iso-8859-15">')
    text, encoding = decode_html(body.encode("latin-1"), "text/html; charset=iso-8859-1")
    assert canonical(encoding) == "cp1252"  # ISO-8859-1 maps to windows-1252, as in browsers
    assert "Café crème" in text


def test_gb2312_label_decodes_gbk_only_characters() -> None:
    head = '<meta charset="gb2312">'
    with pytest.raises(UnicodeEncodeError):
        CHINESE_GBK_ONLY.encode("gb2312")
    body = page(CHINESE_GBK_ONLY, head).encode("gbk")
    for content_type in ("text/html; charset=gb2312", "text/html"):
        text, encoding = decode_html(body, content_type)
        assert canonical(encoding) == "gb18030"
        assert_clean(text, CHINESE_GBK_ONLY)


def test_header_lies_utf8_but_body_is_windows_1251() -> None:
    body = page(RUSSIAN).encode("windows-1251")
    text, encoding = decode_html(body, "text/html; charset=utf-8")
    assert "\ufffd" not in text
    cyrillic_lowercase = sum("\u0430" <= ch <= "\u044f" for ch in text)
    assert cyrillic_lowercase > 100
    assert_clean(text, RUSSIAN)
    assert canonical(encoding) == "cp1251"


def test_meta_lies_utf8_but_body_is_windows_1251() -> None:
    body = page(RUSSIAN, '<meta charset="utf-8">').encode("windows-1251")
    text, _ = decode_html(body, "text/html; charset=windows-1251")
    assert_clean(text, RUSSIAN)


@pytest.mark.parametrize(
    "content_type", ["text/html; charset=ISO-8859-1", "text/html; charset=windows-1252"]
)
def test_utf8_body_labelled_latin1_decoded_as_utf8(content_type: str) -> None:
    body = page(FRENCH, '<meta charset="iso-8859-1">').encode("utf-8")
    text, encoding = decode_html(body, content_type)
    assert canonical(encoding) == "utf-8"
    assert_clean(text, FRENCH)
    assert "Ã©" not in text  # no mojibake


@pytest.mark.parametrize("content_type", [None, "text/html", "text/html; charset=utf-8"])
def test_pure_ascii(content_type: str | None) -> None:
    html = page("Plain English news, nothing else.")
    text, encoding = decode_html(html.encode("ascii"), content_type)
    assert text == html
    assert canonical(encoding) in {"ascii", "utf-8"}


def test_empty_body() -> None:
    text, encoding = decode_html(b"", None)
    assert text == ""
    assert encoding


def test_undeclared_shift_jis_detected() -> None:
    html = page(JAPANESE * 2)
    body = html.encode("shift_jis")
    assert len(body) > 400
    text, encoding = decode_html(body, "text/html")
    assert canonical(encoding) in {"shift_jis", "cp932", "shift_jis_2004", "shift_jisx0213"}
    assert text == html


def test_undeclared_windows_1251_detected() -> None:
    html = page(RUSSIAN * 2)
    text, _ = decode_html(html.encode("windows-1251"), None)
    assert text == html


def test_unknown_declared_charset_is_skipped() -> None:
    body = page(RUSSIAN, '<meta charset="x-no-such-charset">').encode("utf-8")
    text, encoding = decode_html(body, "text/html; charset=x-unknown")
    assert canonical(encoding) == "utf-8"
    assert_clean(text, RUSSIAN)


def test_a_few_broken_bytes_keep_the_declared_encoding() -> None:
    # A long windows-1251 page with one byte that windows-1251 cannot map (0x98).
    html = page(RUSSIAN * 5)
    body = html.encode("windows-1251").replace(b"</p>", b"\x98</p>")
    text, encoding = decode_html(body, "text/html; charset=windows-1251")
    assert canonical(encoding) == "cp1251"
    assert RUSSIAN in text


# --- pages that declare no charset (no HTTP charset, no BOM, no <meta charset>) ---------------
# Detection used to run on the raw bytes, mostly ASCII markup, where every single-byte encoding
# ties: French, Spanish or Swedish pages came out as windows-1250 (à as ŕ, ñ as ń, å as ĺ).

_META_CHARSET = re.compile(rb"<meta[^>]*charset[^>]*>", re.I)


def undeclared(page_id: str, codec: str) -> bytes:
    """A bundled demo page re-encoded in a legacy charset, its charset declarations removed
    (characters the charset lacks become character references, as a CMS would write them)."""
    html = gzip.decompress((PAGES_DIR / f"{page_id}.html.gz").read_bytes()).decode("utf-8")
    return _META_CHARSET.sub(b"", html.encode(codec, errors="xmlcharrefreplace"))


@pytest.mark.parametrize(
    ("page_id", "codec"),
    [
        ("fundus/fr-LeMonde_2023_09_01", "windows-1252"),
        ("fundus/es-Publico_2025_05_29", "windows-1252"),
        ("readability/la-nacion", "windows-1252"),
        ("fundus/se-Aftonbladet_2026_08_02", "windows-1252"),
        ("fundus/no-VerdensGang_2024_08_05", "windows-1252"),
        ("fundus/lt-LRT_2024_03_31", "windows-1257"),
    ],
)
def test_undeclared_legacy_page_decoded_as_its_charset(page_id: str, codec: str) -> None:
    body = undeclared(page_id, codec)
    text, encoding = decode_html(body, "text/html")
    assert canonical(encoding) == canonical(codec)
    assert text == body.decode(codec)


def test_undeclared_iso_8859_15_german_page_reads_as_windows_1252() -> None:
    # What a browser does: its German letters are the same in both (it was read as cp775).
    body = undeclared("fundus/at-ORF_2024_11_22", "iso-8859-15")
    text, encoding = decode_html(body, None)
    assert canonical(encoding) == "cp1252"
    assert text == body.decode("iso-8859-15")
    assert "für" in text


def test_undeclared_windows_1251_page_whose_text_follows_64_kib_of_markup() -> None:
    # An inline style sheet before the title: the first 64 KiB held no Cyrillic byte.
    style = b"<style>" + b".c{margin:0 auto;padding:0}\n" * 2600 + b"</style>"
    body = undeclared("fundus/ru-Kommersant_2025_05_14", "windows-1251")
    body = body.replace(b"<head>", b"<head>" + style, 1)
    assert body[: 64 * 1024].isascii()
    text, encoding = decode_html(body, "text/html")
    assert canonical(encoding) == "cp1251"
    assert text == body.decode("windows-1251")


# Short news sentences, as a page would repeat them in teasers (the fault hunt's pages).
CZECH = (
    "Vláda letos oznámila nová podpůrná opatření pro malé podniky a rodiny s dětmi, řekl ministr."
)
POLISH = (
    "Rząd ogłosił w tym roku nowe środki wsparcia dla małych firm i rodzin z dziećmi, "
    "łącznie z ulgą."
)
GREEK = (
    "Η κυβέρνηση ανακοίνωσε φέτος νέα μέτρα στήριξης για τις μικρές επιχειρήσεις "
    "και τις οικογένειες."
)


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        pytest.param(CZECH, "windows-1250", id="czech-windows-1250"),
        pytest.param(POLISH, "windows-1250", id="polish-windows-1250"),
        pytest.param(GREEK, "windows-1253", id="greek-windows-1253"),
    ],
)
def test_undeclared_short_page_in_a_legacy_charset(text: str, codec: str) -> None:
    html = page("</p><p>".join([text] * 4))
    decoded, encoding = decode_html(html.encode(codec), "text/html")
    assert canonical(encoding) == canonical(codec)
    assert decoded == html


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        pytest.param(POLISH, "iso-8859-2", id="polish-iso-8859-2"),
        pytest.param(GREEK, "windows-1253", id="greek-windows-1253"),
    ],
)
def test_undeclared_article_in_a_real_page_markup(text: str, codec: str) -> None:
    # The markup of a bundled page whose text is all ASCII (Indonesian), an article inserted.
    html = undeclared("fundus/id-MediaIndonesia_2026_01_20", "ascii").decode("ascii")
    html = re.sub(r"<body[^>]*>", lambda m: f"{m.group(0)}<article><p>{text}</p></article>", html)
    decoded, encoding = decode_html(html.encode(codec), "text/html")
    assert canonical(encoding) == canonical(codec)
    assert decoded == html


def test_undeclared_page_with_a_few_western_letters_stays_windows_1252() -> None:
    # ï is ď in windows-1250, a Czech letter as é is: a tie, which windows-1252 wins.
    html = page("A naïve café owner said the plan was “fine” — Zoë agreed.")
    text, encoding = decode_html(html.encode("windows-1252"), None)
    assert canonical(encoding) == "cp1252"
    assert text == html


def test_undeclared_utf8_with_one_stray_byte_is_utf8() -> None:
    # A handful of curly quotes and an é, then a windows-1252 apostrophe pasted in (0x92).
    html = page("“Quote” said the café owner. “Again” he said, “twice”.")
    body = html.encode("utf-8").replace(b"</p>", b" It\x92s fine.</p>")
    text, encoding = decode_html(body, "text/html")
    assert canonical(encoding) == "utf-8"
    assert "“Quote” said the café owner." in text
    assert "It\ufffds fine." in text


@pytest.mark.parametrize("label", ["idna", "punycode", "undefined"])
def test_a_declared_codec_that_cannot_read_a_page_is_skipped(label: str) -> None:
    # Python knows these names, but their codecs refuse errors="replace" (idna), fail on any
    # byte beyond ASCII (punycode) or on everything (undefined): a page declaring one in its
    # header or its <meta> raised UnicodeError out of the extraction worker.
    body = page(RUSSIAN, f'<meta charset="{label}">').encode("windows-1251")
    for content_type in (f"text/html; charset={label}", "text/html"):
        text, encoding = decode_html(body, content_type)
        assert canonical(encoding) == "cp1251"
        assert_clean(text, RUSSIAN)
