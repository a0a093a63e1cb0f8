"""Links that print their target's page, written by the print renderer itself (``render.PrintDocument``) and
kept split where those pages go (``model.PagedHTML``), filled in as the pages become known."""

from __future__ import annotations

import pytest
from lxml import etree

from briefpress.build import prepare
from briefpress.editions import pdf
from briefpress.errors import Diagnostics
from briefpress.model import CROSS_PART, PAGE_CLOSE, PAGE_OPEN, PagedHTML
from tools.paths import ROOT

BRIEF = ROOT / "tests" / "briefs" / "crossref"


def _links(html: str) -> list[etree._Element]:
    return etree.HTML(html).xpath("//a[@href]")


def test_split_and_filled() -> None:
    paged = PagedHTML.split(f'<a href="#a" data-page="{PAGE_OPEN}a{PAGE_CLOSE}">A</a> and '
                            f'<a href="#b" data-page="{PAGE_OPEN}b{PAGE_CLOSE}">B</a>')
    assert paged.targets == ("a", "b")
    assert paged.filled({"b": 7}) == '<a href="#a" data-page="0">A</a> and <a href="#b" data-page="7">B</a>'
    assert PagedHTML.split("<p>none</p>").filled({}) == "<p>none</p>" and not PagedHTML()


def test_sections_print_the_pages_of_other_sections_targets_only() -> None:
    rendered = prepare(BRIEF, Diagnostics(), strict=True)
    job = pdf.print_job(rendered)
    assert PAGE_OPEN not in job.source and "data-page" not in job.source, "the whole brief needs no pages"
    front = job.front.filled({})
    assert all(a.get("data-page") == "0" for a in _links(front)) and len(_links(front)) > 5
    paged = 0
    for section in job.sections:
        for a in _links(section.html.filled({})):
            target = a.get("href")[1:]
            other = rendered.id_owner.get(target) not in (None, section.id)
            assert (a.get("data-page") is not None) == ("xref-page" in (a.get("class") or "") and other), target
            paged += a.get("data-page") is not None
        assert set(section.html.targets) <= set(rendered.id_owner)
    assert paged >= 3


def test_parts_link_to_other_parts_through_their_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "WHOLE_CHARS", 100)
    monkeypatch.setattr(pdf, "PART_CHARS", 100)
    rendered = prepare(BRIEF, Diagnostics(), strict=True)
    front, *runs = pdf.print_job(rendered).parts
    assert all(a.get("href").startswith(CROSS_PART) and a.get("data-page") == "0" for a in _links(front.source))
    owners = rendered.id_owner
    for run in runs:
        html = run.html.filled({})
        own = {owners[a.get("id")] for a in etree.HTML(html).xpath("//section[@class and @id]")
               if a.get("id") in owners and "section" in a.get("class").split()}
        for a in _links(html):
            href = a.get("href")
            target = href.removeprefix(CROSS_PART).removeprefix("#")
            if target in owners:
                assert href.startswith(CROSS_PART) == (owners[target] not in own), href
            if a.get("data-page") is not None:
                assert "xref-page" in a.get("class") and href.startswith(CROSS_PART)
