"""The published docs: README tables current, and the offline site shows every operation in a
real browser (headless Chromium, loopback only)."""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobagent_mock.contract import docs
from jobagent_mock.foundations import spec
from tests.browser import chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "reports"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=15000",
]


def test_readme_tables_come_from_fixtures_and_contract() -> None:
    text = docs.README.read_text(encoding="utf-8")
    assert docs.rendered_readme(text) == text, "run: jobagent-mock docs --readme"
    assert "| `0202701405` | Død borger: 4405 | A dead citizen: 4405 | 4405 |" in text
    assert (
        "| 4819 | The BookingStartTime is no longer available | 409 | the example after a 2xx of"
        " TilmeldOgBook for `2208921234` (as `star-jobnet`, CPR `1507851234`) |" in text
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    docs.build_site(out)
    return out


def test_site_is_offline_and_complete(site: Path) -> None:
    for page in (
        "index.html",
        "jobagent.html",
        "admin.html",
        "token.html",
        "personas.html",
        "fejlkoder.html",
        "reconstruction.html",
        "changelog.html",
        "published/jobagent-1.0.0.yaml",
        *spec.CONTRACTS,
    ):
        assert (site / page).is_file(), page
    assert (site / "swagger-ui" / "swagger-ui-bundle.js").is_file()
    for page in site.glob("*.html"):
        assert not re.search(r"""(src|href)=["']https?://""", page.read_text(encoding="utf-8")), (
            f"{page.name} loads something from the network"
        )
    assert "4405" in (site / "personas.html").read_text(encoding="utf-8")
    assert "A-31" in (site / "reconstruction.html").read_text(encoding="utf-8")


def test_every_page_shows_the_contract_version_and_the_changelog_goes_back_to_1_0_0(
    site: Path,
) -> None:
    version = spec.raw(spec.BUSINESS)["info"]["version"]
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert f'<strong class="contract-version">{version}</strong>' in text, page.name
    log = (site / "changelog.html").read_text(encoding="utf-8")
    assert f"<h2>{version} (" in log
    assert log.rstrip().endswith("<p>The first published version.</p>\n</body></html>")
    assert "<h2>1.0.0 (2026-11-30)</h2>" in log
    assert 'href="published/jobagent-1.0.0.yaml"' in (site / "index.html").read_text()


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
@pytest.mark.needs_chromium
def test_every_operation_is_on_the_page_in_chromium(served: str, tmp_path: Path) -> None:
    browser = chromium()
    page = f"{served}/jobagent.html"
    assert_every_operation_shown(page, tmp_path / "a")
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "docs-jobagent.png"
    subprocess.run(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'b'}",
            "--window-size=1280,2000",
            f"--screenshot={screenshot}",
            page,
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert screenshot.stat().st_size > 10_000


def test_every_page_has_a_heading_an_introduction_and_only_links_inside_the_site(
    site: Path,
) -> None:
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert re.search(r"<h1>.+?</h1><p class=\"intro\">\w", text), page.name
        for target in re.findall(r"""(?:src|href)=["']([^"'#]+)""", text):
            assert (site / target).is_file(), f"{page.name} links to {target}, not in the site"


@pytest.mark.slow
@pytest.mark.needs_chromium
def test_the_contract_shows_when_opened_from_disk(site: Path, tmp_path: Path) -> None:
    """file:// forbids fetching the YAML beside the page: the page carries the contract."""
    assert_every_operation_shown((site / "jobagent.html").as_uri(), tmp_path)


def assert_every_operation_shown(page: str, profile: Path) -> None:
    """Headless Chromium renders the page with a section for every business operation."""
    dom = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    for operation in spec.operations(spec.BUSINESS).values():
        assert f"operations-{operation.spec['tags'][0]}-{operation.operation_id}" in dom, (
            operation.operation_id
        )
