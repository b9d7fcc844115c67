"""Author names from bylines."""

from __future__ import annotations

import pytest

from extraction.authors import MAX_AUTHORS, clean_authors, without_outlet


@pytest.mark.parametrize(
    ("bylines", "expected"),
    [
        # separators
        (["Jane Doe; John Roe"], ["Jane Doe", "John Roe"]),
        (["Jane Doe | John Roe"], ["Jane Doe", "John Roe"]),
        (["Jane Doe, John Roe"], ["Jane Doe", "John Roe"]),
        (["Jane Doe/John Roe"], ["Jane Doe", "John Roe"]),
        (["Jane Doe & John Roe"], ["Jane Doe", "John Roe"]),
        (["Jane Doe and John Roe"], ["Jane Doe", "John Roe"]),
        (["Max Mustermann und Erika Musterfrau"], ["Max Mustermann", "Erika Musterfrau"]),
        (["Juan Pérez y María López"], ["Juan Pérez", "María López"]),
        (["Kari Nordmann og Ola Nordmann"], ["Kari Nordmann", "Ola Nordmann"]),
        (["Jean Dupont et Marie Curie"], ["Jean Dupont", "Marie Curie"]),
        (["Anna Svensson och Erik Berg"], ["Anna Svensson", "Erik Berg"]),
        (["Jane Doe, John Roe and Ann Lee"], ["Jane Doe", "John Roe", "Ann Lee"]),
        (["李楠、王伟"], ["李楠", "王伟"]),
        # labels
        (["By Jane Doe"], ["Jane Doe"]),
        (["BY JANE DOE"], ["JANE DOE"]),
        (["By: Jane Doe"], ["Jane Doe"]),
        (["Von Max Mustermann"], ["Max Mustermann"]),
        (["Par Jean Dupont"], ["Jean Dupont"]),
        (["Por Juan Pérez"], ["Juan Pérez"]),
        (["Autor: Hans Meier"], ["Hans Meier"]),
        (["Texto: Ana Souza"], ["Ana Souza"]),
        (["Written by Jane Doe"], ["Jane Doe"]),
        (["By Jane Doe and John Roe"], ["Jane Doe", "John Roe"]),
        (["— Jane Doe."], ["Jane Doe"]),
        # roles
        (["Jane Doe, Senior Reporter"], ["Jane Doe"]),
        (["John Roe | Staff Writer"], ["John Roe"]),
        (["Redaktion"], []),
        (["Jane Doe / Agenturen"], ["Jane Doe"]),
        (["dpa / Agenturen"], []),
        (["Staff"], []),
        (["Redacción"], []),
        # junk
        (["105092"], []),
        (["L_104485"], []),
        (["■ 该作者文章"], []),
        (["No Author"], []),
        (["edilson.la.rosa"], []),
        (["jdoe"], []),
        (["jane.doe@example.com"], []),
        (["Hecho en Bolivia con Drupal por Smartica"], []),
        (["この 記事 を 書いた 人"], []),
        (["Jane Doe 2024"], []),
        # entities and space
        (["Jane Doe &amp; John Roe"], ["Jane Doe", "John Roe"]),
        (["Jane Doe &amp;amp; John Roe"], ["Jane Doe", "John Roe"]),
        (["Fran&ccedil;ois Martin"], ["François Martin"]),
        (["  Jane \n  Doe  "], ["Jane Doe"]),
        # names in Chinese, Japanese and Korean
        (["박준석"], ["박준석"]),
        (["毎日新聞"], ["毎日新聞"]),
        (["山田 太郎"], ["山田 太郎"]),
        (["박준석, 김태연"], ["박준석", "김태연"]),
        # particles and other name shapes
        (["Guillermo de la Torre"], ["Guillermo de la Torre"]),
        (["Ludwig van Beethoven"], ["Ludwig van Beethoven"]),
        (["Dana de Vries"], ["Dana de Vries"]),
        (["Jean-Pierre Martin"], ["Jean-Pierre Martin"]),
        (["Mary O'Brien"], ["Mary O'Brien"]),
        (["Chus del Pino y Martí Abad"], ["Chus del Pino", "Martí Abad"]),
        # nothing
        ([], []),
        ([""], []),
        (["   "], []),
    ],
)
def test_clean_authors(bylines: list[str], expected: list[str]) -> None:
    assert clean_authors(bylines) == expected


def test_long_unspaced_japanese_phrase_is_not_a_name() -> None:
    # BUG: only the number of space-separated parts is limited for CJK text, so a whole
    # sentence of UI text without spaces ("log in here to write a comment") is kept as a name.
    assert clean_authors(["ログインしてコメントを書く場合はこちらからお願いします"]) == []


def test_duplicates_are_removed_without_case_keeping_the_first() -> None:
    bylines = ["Jane Doe", "JANE DOE; John Roe", "jane doe", "By John Roe"]
    assert clean_authors(bylines) == ["Jane Doe", "John Roe"]


def test_names_keep_their_order_across_bylines() -> None:
    assert clean_authors(["Ann Lee", "Jane Doe, Ann Lee", "Bo Chen"]) == [
        "Ann Lee",
        "Jane Doe",
        "Bo Chen",
    ]


def test_at_most_twelve_authors() -> None:
    names = [f"Anna {chr(ord('A') + index)}ekman" for index in range(20)]
    authors = clean_authors(["; ".join(names)])
    assert MAX_AUTHORS == 12
    assert authors == names[:MAX_AUTHORS]


@pytest.mark.parametrize(
    ("authors", "outlets", "expected"),
    [
        (["Reuters", "Jane Doe"], ["reuters", None], ["Jane Doe"]),
        (["Jane Doe", "The Daily Planet"], [None, "THE DAILY PLANET"], ["Jane Doe"]),
        (["Jane Doe"], ["Reuters"], ["Jane Doe"]),
        # the outlet is kept when nobody else is named
        (["Reuters"], ["Reuters"], ["Reuters"]),
        (["Reuters", "AFP"], ["Reuters", "AFP"], ["Reuters", "AFP"]),
        (["Jane Doe"], [None], ["Jane Doe"]),
        (["Jane Doe"], [], ["Jane Doe"]),
        ([], ["Reuters"], []),
    ],
)
def test_without_outlet(authors: list[str], outlets: list[str | None], expected: list[str]) -> None:
    assert without_outlet(authors, outlets) == expected


def test_without_outlet_does_not_modify_its_argument() -> None:
    authors = ["Reuters", "Jane Doe"]
    without_outlet(authors, ["Reuters"])
    assert authors == ["Reuters", "Jane Doe"]
