#!/bin/sh
# Puppeteer (inside Ace by DAISY) launches this instead of a downloaded Chrome: Debian's chromium,
# without the sandbox (CI runs as root in a container), the GPU or any background network traffic.
exec "${CHROMIUM:-/usr/bin/chromium}" --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run "$@"
