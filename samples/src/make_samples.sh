#!/usr/bin/env bash
# Rebuilds samples/*.pdf|png from the sources here. Needs Debian's groff and poppler-utils.
set -euo pipefail
cd "$(dirname "$0")"
groff -t -e -ms -Tpdf article.ms > ../article.pdf
groff -t -e -ms -Tpdf report.ms > ../report.pdf
# A page that is only an image: page 1 of the report, rasterised and wrapped as a scan.
tmp=$(mktemp -d)
pdftoppm -f 1 -l 1 -r 100 -jpeg -jpegopt quality=85 ../report.pdf "$tmp/scan"
python3 image_to_pdf.py "$tmp"/scan*.jpg ../scanned_page.pdf 100
# An image file is a one-page document too.
pdftoppm -f 1 -l 1 -r 72 -png ../article.pdf "$tmp/art"
cp "$tmp"/art*.png ../article_page.png
rm -rf "$tmp"
