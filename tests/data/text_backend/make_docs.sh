#!/usr/bin/env bash
# Rebuilds the test PDFs here from their groff sources (Debian's groff, with gropdf).
# Each .ms file says in its first lines what structure it holds; the tests in
# tests/test_text_backend_structure.cpp state what the backend must find in it.
set -euo pipefail
cd "$(dirname "$0")"
for f in *.ms; do groff -t -ms -Tpdf "$f" > "${f%.ms}.pdf"; done
