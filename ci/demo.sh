#!/usr/bin/env bash
# Boot the plain kernel and run the demo inside it (see ci/demo-guest.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 ci/vm.py --flavour "${FLAVOUR:-plain}" --timeout 600 -- sh ci/demo-guest.sh
