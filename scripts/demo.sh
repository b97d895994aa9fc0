#!/usr/bin/env bash
# Quick start 1: install huizong into .venv and run the demo campaign.
set -euo pipefail
here="$(pwd)"
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
cd "$here"
exec huizong demo "$@"
