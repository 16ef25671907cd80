#!/usr/bin/env bash
# Installs the Debian packages docling-cpp builds with (idempotent; needs root or sudo).
set -euo pipefail
packages=(build-essential cmake pkg-config libpoppler-cpp-dev libpng-dev libjpeg62-turbo-dev
          libpugixml-dev nlohmann-json3-dev libcli11-dev libtbb-dev libgtest-dev libgmock-dev libbenchmark-dev
          libicu-dev libssl-dev libcpp-httplib-dev libarchive-dev curl
          qpdf zstd  # tests: damaged and archived inputs
          dpkg-dev file)  # dpkg-dev, file: cpack -G DEB (dpkg-shlibdeps)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
