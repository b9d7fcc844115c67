"""The throughput page set: each variant keeps its page's markup, language and size, but not its
text, so that no variant is a (near-)duplicate of another."""

from __future__ import annotations

import codecs

import pytest

from bench.harness.corpus import load_pages, read_body
from bench.harness.pages import CANONICAL, PageSet, load_templates, make_template
from demo.site import PAGES_DIR
from extraction.language import LanguageDetector
from extraction.record import article_record
from extraction.signature import Signer, similarity

PAGE = (
    "<html><head><title>Kept title</title>"
    '<link rel="canonical" href="https://news.example/story">'
    '<meta property="og:url" content="https://news.example/story?x=1">'
    "<script>var words = 'not text';</script></head>"
    "<body><p>alpha beta gamma delta epsilon</p><p>日本語の文章</p>"
    '<a href="/x">link words</a></body></html>'
)


@pytest.fixture(scope="module")
def pages() -> PageSet:
    return PageSet(load_templates(PAGES_DIR))


def test_a_template_has_a_slot_per_visible_word_and_canonical_url() -> None:
    template = make_template("demo/page one!", PAGE.encode())
    assert template.name == "demo-page-one"
    assert template.encoding == "utf-8"
    kinds = list(template.kinds)
    assert kinds.count(CANONICAL) == 2
    assert set(template.words) == {"alpha", "beta", "gamma", "delta", "epsilon", "link", "words"}
    assert "日" in template.chars  # written without spaces: by character
    assert "Kept" not in template.originals  # the title is not visible text
    assert "not" not in template.originals  # nor are scripts
    assert len(template.parts) == len(kinds) + 1


def test_a_variant_redraws_words_and_marks_its_canonical_url() -> None:
    template = make_template("page", PAGE.encode())
    unchanged = template.render(7, share=0.0).decode()
    assert unchanged.count("variant=7") == 2
    assert "https://news.example/story?variant=7" in unchanged
    assert "https://news.example/story?x=1&amp;variant=7" in unchanged
    assert unchanged.replace("?variant=7", "").replace("&amp;variant=7", "") == PAGE
    first, again = template.render(3), template.render(3)
    assert first == again  # seeded by the page number
    assert first != template.render(4)
    assert b"<title>Kept title</title>" in first
    assert b"var words = 'not text';" in first


def test_a_byte_order_mark_is_kept() -> None:
    template = make_template("bom", codecs.BOM_UTF8 + PAGE.encode())
    assert template.render(1).startswith(codecs.BOM_UTF8)


def test_variants_keep_the_page_but_not_its_text(pages: PageSet) -> None:
    signer, detector = Signer(), LanguageDetector()
    originals = load_pages(PAGES_DIR)
    count = len(pages.templates)
    assert count == len(originals)
    for index in range(0, count, 4):
        original = read_body(originals[index].file)
        first, second = pages.body(index), pages.body(index + count)  # two variants of one page
        assert pages.template(index) is pages.template(index + count)
        assert pages.path(index) != pages.path(index + count)
        assert first != second
        assert 0.9 < len(first) / len(original) < 1.1  # same markup, about the same size
        rows = [
            article_record(body, f"http://127.0.0.1/a/{n}.html", detector=detector)
            for n, body in enumerate((original, first, second))
        ]
        assert len({row["content_hash"] for row in rows}) == 3
        assert len({row["canonical_url"] for row in rows}) == 3
        assert rows[1]["language"] == rows[0]["language"]
        signatures = [signer.signature(row["text"]) for row in rows]
        assert all(signature is not None for signature in signatures)
        for a, b in ((0, 1), (0, 2), (1, 2)):
            assert similarity(signatures[a], signatures[b]) < 0.5, (originals[index].id, a, b)
