"""The mediation agreement as headless Chromium prints it: one A4 page for the usual case (two
parties, a few lines of terms), and the signatures and seal never alone on a page.

Runs Chromium (`chromium --headless --print-to-pdf`), so it is slow and needs it installed;
where it is not, the print rules themselves are still checked, without a browser, by
`tests/test_agreement.py::test_the_signatures_are_kept_with_the_end_of_the_terms`.
Which page holds what is read with `pdftotext` (poppler-utils).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldapp.core.service import officer_names
from fieldapp.outputs.agreement import agreement_html
from harness.replicas import station_devices
from tests.test_agreement import ORG, STATION, TERMS, Station, fake_parties

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
PDFTOTEXT = shutil.which("pdftotext")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="headless Chromium is not installed (`apt-get install -y chromium`); the print rules "
        "are checked without it by "
        "tests/test_agreement.py::test_the_signatures_are_kept_with_the_end_of_the_terms",
    ),
]

#: A4 in PostScript points, as Chromium writes the MediaBox (to within a point).
A4 = (595.28, 841.89)


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    with station_devices(tmp_path_factory.mktemp("station"), 1, name=STATION) as services:
        yield Station(services, fake_parties(7))


def print_pdf(page: bytes, folder: Path, name: str) -> bytes:
    """The PDF Chromium prints of `page` (default paper and margins: the page's @page rules)."""
    assert CHROMIUM is not None
    source, out = folder / f"{name}.html", folder / f"{name}.pdf"
    source.write_bytes(page)
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={folder / 'profile'}",
            f"--print-to-pdf={out}",
            source.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out.read_bytes()


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


def page_texts(pdf: bytes, folder: Path) -> list[str]:
    """The text of each page (pdftotext), in order."""
    assert PDFTOTEXT is not None
    path = folder / "pages.pdf"
    path.write_bytes(pdf)
    done = subprocess.run([PDFTOTEXT, str(path), "-"], check=True, capture_output=True, timeout=60)
    return [text for text in done.stdout.decode("utf-8").split("\f") if text.strip()]


def test_the_usual_agreement_prints_on_one_a4_page(station: Station, tmp_path: Path) -> None:
    names = officer_names(station.officer)
    five_lines = "\n".join(
        f"{n}、乙方于2026年{n}月底前付给甲方500元，双方不再就此事争执。" for n in range(1, 6)
    )
    usual = {**station.case, "outcome": {"kind": "agreement", "terms": five_lines}}
    for case, lang, org in ((station.case, "zh", ORG), (usual, "zh", ""), (station.case, "en", ORG)):
        pdf = print_pdf(agreement_html(case, names, org, lang=lang), tmp_path, lang)
        assert page_count(pdf) == 1, (lang, org)
        box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
        assert box is not None
        assert abs(float(box.group(1)) - A4[0]) < 1 and abs(float(box.group(2)) - A4[1]) < 1
    assert TERMS  # (the usual case's terms: two lines, one with markup)


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed to read the pages")
def test_a_long_agreement_keeps_its_signatures_with_the_end_of_its_terms(
    station: Station, tmp_path: Path
) -> None:
    names = officer_names(station.officer)
    # Terms long enough to break at every point of the agreement's last third across the lengths.
    for count in range(8, 27, 3):
        lines = [f"第{n}条、乙方按月付给甲方五百元。" for n in range(1, count + 1)]
        case = {**station.case, "outcome": {"kind": "agreement", "terms": "\n".join(lines)}}
        pdf = print_pdf(agreement_html(case, names, ORG), tmp_path, f"long{count}")
        pages = page_texts(pdf, tmp_path)
        assert len(pages) == page_count(pdf)
        signed = [text for text in pages if "当事人（签名或盖章）" in text]
        assert len(signed) == 1, count
        page = signed[0]
        # The signatures, the seal and the closing share a page with the end of the terms.
        for words in (
            lines[-1],
            lines[-2],
            "履行方式、时限",
            "本协议一式",
            "人民调解员（签名）",
            f"{ORG}（印章）",
        ):
            assert words in page, (count, len(pages), words)
