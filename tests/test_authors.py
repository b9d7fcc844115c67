"""Author credits from bylines (:mod:`extraction.authors`): people, organizations, and the
bylines the text writes."""

from __future__ import annotations

import pytest

from extraction.article import columns
from extraction.authors import (
    MAX_AUTHORS,
    Credits,
    bracketed_names,
    credits_of,
    east_asian_byline,
    host_label,
    is_organization,
    is_outlet,
    labelled_byline,
    name_line,
    organizations_named,
    outlet_keys,
    starts_with_label,
)


def people(bylines: list[str]) -> list[str]:
    return credits_of(bylines).people


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
        (["Autor/in: Korinna Hennig"], ["Korinna Hennig"]),
        (["记者 王建宏"], ["王建宏"]),
        (["作者：郭励弘"], ["郭励弘"]),
        (["责任编辑：魏喆"], ["魏喆"]),
        # titles
        (["Dr. Sebastian Brüggemann"], ["Sebastian Brüggemann"]),
        (["Rechtsanwalt Dennis Tölle"], ["Dennis Tölle"]),
        (["Prof. Dr. Anna Schmidt"], ["Anna Schmidt"]),
        (["Ra Mi-ran"], ["Ra Mi-ran"]),  # a name, not the title "RA"
        # a final period that belongs to the name
        (["Perry Bacon Jr."], ["Perry Bacon Jr."]),
        (["Nicolas Gutierrez C."], ["Nicolas Gutierrez C."]),
        (["By Dana A. Ford."], ["Dana A. Ford"]),
        # "A, B, and C"
        (["Jane Doe, John Roe, and Tom Watkins"], ["Jane Doe", "John Roe", "Tom Watkins"]),
        # interface words of a byline widget
        (["松岡大地 フォロー"], ["松岡大地"]),
        (["この記事を書いた人", "渡辺洋介", "フォロー"], ["渡辺洋介"]),
        (["Angelika Leitner", "Google+", "mehr"], ["Angelika Leitner"]),
        (["Jane Doe Follow"], ["Jane Doe"]),
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
        (["编辑部"], []),  # one Han character left: no name
        (["Jane Doe 2024"], []),
        # entities and space
        (["Jane Doe &amp; John Roe"], ["Jane Doe", "John Roe"]),
        (["Jane Doe &amp;amp; John Roe"], ["Jane Doe", "John Roe"]),
        (["Fran&ccedil;ois Martin"], ["François Martin"]),
        (["  Jane \n  Doe  "], ["Jane Doe"]),
        # names in Chinese, Japanese and Korean
        (["박준석"], ["박준석"]),
        (["山田太郎"], ["山田太郎"]),
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
def test_people(bylines: list[str], expected: list[str]) -> None:
    assert people(bylines) == expected


def test_long_unspaced_japanese_phrase_is_not_a_name() -> None:
    # only the number of space-separated parts was limited for CJK text, so a whole sentence
    # of UI text without spaces ("log in here to write a comment") was kept as a name
    assert people(["ログインしてコメントを書く場合はこちらからお願いします"]) == []


def test_duplicates_are_removed_without_case_keeping_the_first() -> None:
    bylines = ["Jane Doe", "JANE DOE; John Roe", "jane doe", "By John Roe"]
    assert people(bylines) == ["Jane Doe", "John Roe"]


def test_names_keep_their_order_across_bylines() -> None:
    assert people(["Ann Lee", "Jane Doe, Ann Lee", "Bo Chen"]) == ["Ann Lee", "Jane Doe", "Bo Chen"]


def test_at_most_twelve_authors() -> None:
    names = [f"Anna {chr(ord('A') + index)}ekman" for index in range(20)]
    assert MAX_AUTHORS == 12
    assert people(["; ".join(names)]) == names[:MAX_AUTHORS]


@pytest.mark.parametrize("name", ["authors", "author_organizations"])
def test_the_dataset_docs_say_how_many_authors(name: str) -> None:
    assert f"the first {MAX_AUTHORS} at most" in columns()[name].doc


# --- organizations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bylines", "expected"),
    [
        # agencies and outlets among people, or alone
        (["Jane Doe, AFP"], Credits(["Jane Doe"], ["AFP"])),
        (["Jane Doe / Reuters"], Credits(["Jane Doe"], ["Reuters"])),
        (["dpa"], Credits([], ["dpa"])),
        (["aja/PAP"], Credits([], ["aja/PAP"])),
        (
            ["Dana A. Ford, Chien-Ming Wang, and Tom Watkins, CNN"],
            Credits(["Dana A. Ford", "Chien-Ming Wang", "Tom Watkins"], ["CNN"]),
        ),
        (["Por Agencia EFE"], Credits([], ["Agencia EFE"])),
        (["Deutsche Presse-Agentur"], Credits([], ["Deutsche Presse-Agentur"])),
        (["Wikimedia Foundation"], Credits([], ["Wikimedia Foundation"])),
        (["Deutsche Welle (www.dw.com)"], Credits([], ["Deutsche Welle (www.dw.com)"])),
        (["毎日新聞"], Credits([], ["毎日新聞"])),
        (["云南日报报业集团,云南网"], Credits([], ["云南日报报业集团", "云南网"])),
        # the organization's place is no person
        (["SPIEGEL ONLINE, Hamburg, Germany"], Credits([], ["SPIEGEL ONLINE"])),
        # a byline that names no one part by part may be a credit as a whole
        (["det/dpa"], Credits([], ["det/dpa"])),
        (["Redaktion Polizeiticker Schweiz"], Credits([], ["Redaktion Polizeiticker Schweiz"])),
        (["MM-Redaktion"], Credits([], ["MM-Redaktion"])),
        (["CNN Wire"], Credits([], ["CNN Wire"])),
        (["Staff and news service reports"], Credits([], ["Staff and news service reports"])),
        # roles and placeholders are no one's credit
        (["Redaktion"], Credits()),
        (["Staff Writer"], Credits()),
        (["Senior Reporter"], Credits()),
        (["No Author"], Credits()),
        (["dpa / Agenturen"], Credits([], ["dpa"])),  # the placeholder goes
        (["edilson.la.rosa"], Credits()),
    ],
)
def test_credits(bylines: list[str], expected: Credits) -> None:
    assert credits_of(bylines) == expected


def test_a_byline_that_is_the_outlets_name_is_one_organization() -> None:
    name = "Noticias de El Salvador | La Prensa Gráfica"
    assert credits_of([name], outlet_keys([name])) == Credits([], [name])
    # without the outlet's name, its parts are read one by one
    assert credits_of([name]) == Credits(["Noticias de El Salvador"], ["La Prensa Gráfica"])


@pytest.mark.parametrize(
    "byline",
    [
        "www.example.com",
        "example.com",
        "https://example.com/",
        "http://www.example.com",
        "//example.com/staff/jane",
        "By example.com/staff",
        "www.example.com, example.com",
    ],
)
def test_a_web_address_credits_no_one(byline: str) -> None:
    # it was an organization (the host, cut out of a link: "example.com")
    outlets = outlet_keys(["The Daily Planet", host_label("news.planet.org")])
    assert credits_of([byline], outlets) == Credits()
    assert organizations_named([byline], outlets) == []


def test_a_web_address_beside_a_name_credits_the_name_alone() -> None:
    assert credits_of(["Jane Doe, www.example.com"]) == Credits(["Jane Doe"], [])
    # a name with its address is no address
    byline = "Deutsche Welle (www.dw.com)"
    assert credits_of([byline]) == Credits([], [byline])
    assert organizations_named(["Zespół wPolityce.pl"]) == ["Zespół wPolityce.pl"]


@pytest.mark.parametrize(
    ("byline", "host", "expected"),
    [
        # the outlet's own address is its name, as many write it (ORF.at, mbl.is, futurezone.at)
        ("mbl.is", "www.mbl.is", ["mbl.is"]),
        ("ORF.at", "orf.at", ["ORF.at"]),
        ("www.portalspozywczy.pl", "www.portalspozywczy.pl", ["www.portalspozywczy.pl"]),
        ("oe24.at", "auto.oe24.at", ["oe24.at"]),
        ("ntv.com.tr", "www.ntv.com.tr", ["ntv.com.tr"]),
        # but not a link to it, nor another site's address
        ("https://www.mbl.is/", "www.mbl.is", []),
        ("mbl.is/frettir", "www.mbl.is", []),
        ("visir.is", "www.mbl.is", []),
    ],
)
def test_the_outlets_own_address_is_its_name(byline: str, host: str, expected: list[str]) -> None:
    outlets = outlet_keys([host_label(host)])
    assert credits_of([byline], outlets) == Credits([], expected)
    assert organizations_named([byline], outlets) == expected


def test_a_credit_that_is_the_outlets_name_is_an_organization() -> None:
    outlets = outlet_keys(["Lesotho Times", None, host_label("www.kicker.de")])
    assert credits_of(["Lesotho Times"], outlets) == Credits([], ["Lesotho Times"])
    assert credits_of(["Kicker"], outlets) == Credits([], ["Kicker"])
    assert credits_of(["Lesotho Times"]) == Credits(["Lesotho Times"], [])


@pytest.mark.parametrize(
    ("organization", "outlets", "expected"),
    [
        ("Süddeutsche.de GmbH", ["Süddeutsche.de"], True),  # a longer form of its name
        ("L'Opinion", ["L’Opinion"], True),  # punctuation and case aside
        ("nieuwsblad.be", [], True),
        ("朝日新聞デジタル", [], True),
        ("AFP", ["Le Figaro"], False),
        ("Agencia EFE", ["24horas"], False),
        # a newsroom's credit names who wrote the article, even with the outlet's name in it
        ("Redacción Diario Pagina Siete", ["Página Siete"], False),
        ("Redacción Diario Pagina Siete", ["Redacción Diario Pagina Siete"], True),
        # short names are compared whole only
        ("TV2 News", ["TV2"], False),
    ],
)
def test_is_outlet(organization: str, outlets: list[str], expected: bool) -> None:
    assert is_outlet(organization, outlet_keys(outlets)) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("AFP", True),
        ("JIJI", True),
        ("Associated Press", True),
        ("ET Online", True),
        ("aja/PAP", True),
        ("Jane Doe", False),
        ("JANE DOE", False),
        ("Newsome Smith", False),  # "news" only as a word
        ("Jemele HillESPN.comArchive", False),  # no domain name: no lower-case ending
    ],
)
def test_is_organization(name: str, expected: bool) -> None:
    assert is_organization(name) is expected


@pytest.mark.parametrize(
    ("host", "label"),
    [
        ("www.lesothotimes.com", "lesothotimes"),
        ("www.bbc.co.uk", "bbc"),
        ("mbl.is", "mbl"),
        ("localhost", None),
        (None, None),
    ],
)
def test_host_label(host: str | None, label: str | None) -> None:
    assert host_label(host) == label


def test_organizations_named_in_structured_data_keep_their_form_but_no_placeholder() -> None:
    names = ["kicker", "Contributors to Wikimedia projects", "Redaktion", "Zespół wPolityce.pl"]
    assert organizations_named([*names, "KICKER"]) == ["kicker", "Zespół wPolityce.pl"]


# --- bylines in the text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("By Jane Doe", "Jane Doe"),
        ("Von Max Mustermann | 12.03.2020", "Max Mustermann"),
        ("By TPN, in News, Portugal · 31 Jan 2025", "TPN"),
        ("Autor: Hans Meier", "Hans Meier"),
        ("Par Jean Dupont le 3 mars", "Jean Dupont"),
        ("posted by Stadler at 12:53 Comments (35)", "Stadler"),
        ("Von Markus Balser - Berlin", "Markus Balser"),
        ("Text: Anna Muster Foto: Max Bild", "Anna Muster"),
        # no byline line
        ("Bylines are what this article is about.", None),
        ("The article by Jane Doe", None),  # the label must start the line
        ("By " + "x" * 100, None),  # too long for a byline line
    ],
)
def test_labelled_byline(line: str, names: str | None) -> None:
    assert labelled_byline(line) == names


def test_a_labelled_line_of_words_credits_no_one() -> None:
    names = labelled_byline("By the time we arrived, it was over")
    assert names is not None
    assert credits_of([names]) == Credits()


@pytest.mark.parametrize(
    ("text", "expected"), [("By", True), ("Von:", True), ("By ", True), ("Bylines", False)]
)
def test_starts_with_label(text: str, expected: bool) -> None:
    assert starts_with_label(text) is expected


@pytest.mark.parametrize(
    ("line", "reporters", "editors"),
    [
        ("光明日报记者 王建宏 张文攀", ["王建宏", "张文攀"], []),
        ("□ 本报记者 葛灵丹", ["葛灵丹"], []),
        ("记者马俊峰/文", ["马俊峰"], []),
        ("时间：2004年10月21日14:18 作者：郭励弘", ["郭励弘"], []),
        ("（ 责任编辑：魏喆 ）", [], ["魏喆"]),
        ("来源：巴彦淖尔日报 编辑：苏亮", [], ["苏亮"]),
        ("(责编：牛镛、岳弘彬)", [], ["牛镛", "岳弘彬"]),
        ("记者 刘涛 责任编辑：张三", ["刘涛"], ["张三"]),
        # a long line: only its bracketed segments
        (
            (
                "据新华社拉萨电（记者 格桑边觉）记者近日从西藏自治区有关部门获悉，今年以来全区各地"
                "积极推进各项工作，取得了明显成效。"
            ),
            ["格桑边觉"],
            [],
        ),
        # traps: a photographer, a place, a section, links, a press conference
        ("记者 才扬 摄", [], []),
        ("记者 彭冲 山东冠县报道", ["彭冲"], []),
        ("记者 彭冲 冠县 报道", ["彭冲"], []),
        ("记者调查", [], []),
        ("联系记者", [], []),
        ("■ 该作者文章", [], []),
        ("记者会见", [], []),
        ("记者 云南网", [], []),
    ],
)
def test_east_asian_byline(line: str, reporters: list[str], editors: list[str]) -> None:
    assert east_asian_byline(line) == (reporters, editors)


@pytest.mark.parametrize(
    ("paragraph", "names"),
    [
        (
            "……倡树廉洁家风，过一个平安、祥和、温馨、廉洁的新春佳节。（常书香 马丹阳 ）",
            ["常书香", "马丹阳"],
        ),
        (
            "“这样的说法没有道理，所有的改革难道不都是利益再分配的过程吗？”（姚峰 上海报道）",
            ["姚峰"],
        ),
        # a category after a link, not after a sentence; an outlet
        ("精彩专题：关注北京首例个人集资盖房事件(房产)", []),
        ("……取得了明显成效。（新华社）", []),
        ("没有括号的段落。", []),
    ],
)
def test_bracketed_names(paragraph: str, names: list[str]) -> None:
    assert bracketed_names(paragraph) == names


@pytest.mark.parametrize(
    ("paragraph", "names"),
    [
        ("MTHOBISI SITHOLE", ["MTHOBISI SITHOLE"]),
        ("Mathatisi Sebusi/Mohalenyane Phakela", ["Mathatisi Sebusi", "Mohalenyane Phakela"]),
        ("Lê Phương", ["Lê Phương"]),
        # no name line: a label, a colon, a sentence, an organization, lower-case words
        ("Par Les Echos", []),
        ("Ohrring: Lui Lu", []),
        ("The minister resigned.", []),
        ("Breaking News Today", []),
        ("BORNOVA'DA YANGIN", []),
        ("Read the whole story", []),
        ("Madonna", []),  # one word
    ],
)
def test_name_line(paragraph: str, names: list[str]) -> None:
    assert name_line(paragraph) == names
