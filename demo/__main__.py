"""``make demo``: serve the demo news site on 127.0.0.1, crawl it into ``output/``, summarize,
and write the crawl report (``output/report.html``).

Run it again and the second crawl adds nothing: every article is already stored.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from demo.site import SEED_PATH, Site, base_url, load_site, serve

if TYPE_CHECKING:
    from collections.abc import Iterator

DEFAULT_PORT = 8765
# Loopback needs no politeness delays; everything else is the project's real configuration.
DEMO_SETTINGS = ("AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0")


def crawl_command(base: str, output_dir: Path, log_file: Path) -> list[str]:
    """The ``scrapy crawl news`` command line of the demo: one direct URL (the seed page),
    plus two broken ones, the site's RSS feed and its sitemap index."""
    urls = [f"{base}{SEED_PATH}", f"{base}/articles/missing.html", f"{base}/"]
    command = [
        sys.executable, "-m", "scrapy", "crawl", "news",
        "-a", "urls=" + ",".join(urls),
        "-a", f"feeds={base}/feed.xml",
        "-a", f"sitemaps={base}/sitemap.xml",
        "-s", f"OUTPUT_DIR={output_dir}",
        "--logfile", str(log_file),
    ]  # fmt: skip
    for setting in DEMO_SETTINGS:
        command += ["-s", setting]
    return command


@contextmanager
def serve_on(site: Site, port: int) -> Iterator[Any]:
    """Serve the site on ``port``, or on a free port when that one is taken."""
    try:
        server = serve(site, port=port)
        running = server.__enter__()
    except OSError:
        server = serve(site)
        running = server.__enter__()
    try:
        yield running
    finally:
        server.__exit__(None, None, None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output-dir", type=Path, default=Path("output"))
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port of the demo site (default {DEFAULT_PORT}, or a free one when it is taken); "
        "the same port on every run keeps article URLs, so a second run skips them",
    )
    args = parser.parse_args()
    output_dir: Path = args.output_dir
    log_file = output_dir / "state" / "demo-crawl.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    site = load_site()
    with serve_on(site, args.port) as server:
        base = base_url(server)
        print(f"Demo news site: {base}/ ({len(site.pages)} articles, feed, sitemap)")
        command = crawl_command(base, output_dir, log_file)
        print("Crawling:", " ".join(command[2:]))
        crawl = subprocess.run(command, check=False)
    if crawl.returncode != 0:
        print(f"The crawl failed (exit status {crawl.returncode}); see {log_file}")
        return crawl.returncode
    print(f"Crawl log: {log_file}\n")
    for command_name in ("summary", "report"):
        command = [sys.executable, "-m", "scrapy", command_name, "-s", f"OUTPUT_DIR={output_dir}"]
        done = subprocess.run(command, check=False)
        if done.returncode != 0:
            return done.returncode
    report = output_dir / "report.html"
    print(f"Open {report} in a browser (`scrapy report -s OUTPUT_DIR={output_dir}` makes it again)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
