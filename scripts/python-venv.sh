#!/usr/bin/env bash
# A project-owned Python virtual environment, so Python tests need nothing installed by hand:
#   bash scripts/python-venv.sh NAME REQUIREMENTS_FILE   → prints the venv's path (.data/venv/NAME)
# The venv is created with the machine's python3 (≥ 3.10) and re-synced whenever the requirements
# file (or a local package it installs with -e) changes; otherwise it is reused as is.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
name="${1:?usage: python-venv.sh NAME REQUIREMENTS_FILE}"
req="$(cd "$(dirname "${2:?usage: python-venv.sh NAME REQUIREMENTS_FILE}")" && pwd -P)/$(basename "$2")"
venv="$ROOT/.data/venv/$name"
py="${PYTHON:-python3}"
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || {
	echo "python-venv: $py is older than 3.10" >&2
	exit 1
}
# The stamp is the hash of the requirements file and of every pyproject.toml it points at with -e.
stamp_of() {
	{
		cat "$req"
		# (|| true: a requirements file without -e lines is fine; grep's "no match" must not stop the script)
		{ grep -Eo '^-e +[^[ ]+' "$req" || true; } | awk '{print $2}' | while read -r p; do
			cat "$(cd "$(dirname "$req")" && cd "$p" && pwd -P)/pyproject.toml" 2>/dev/null || true
		done
	} | sha256sum | cut -c1-16
}
want="$(stamp_of)"
if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ]]; then
	echo "python-venv: preparing $venv from $(basename "$req")…" >&2
	[[ -x "$venv/bin/python" ]] || "$py" -m venv "$venv" >&2
	(cd "$(dirname "$req")" && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2)
	echo "$want" >"$venv/.stamp"
fi
echo "$venv"
