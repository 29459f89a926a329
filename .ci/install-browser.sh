#!/usr/bin/env bash
# Install the headless browser the site's tests drive (run as root; safe to run again).
#
# Debian's Chromium and its matching chromedriver: nothing is downloaded at test time, and
# Selenium is told both paths, so it never fetches a driver of its own.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if ((${#missing[@]})); then
    echo "install-browser: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "install-browser: $(chromium --version 2>/dev/null) with $(chromedriver --version | head -n1) ready"
