#!/usr/bin/env bash
# Restart a service of the scripts/with-services.sh run this command runs under, in place:
#   bash scripts/services-ctl.sh restart redis|ferretdb [term|kill] [DOWN_MS]
# See scripts/services/ctl.ts (tests call services.restart() from it directly).
exec node --import tsx "$(dirname "${BASH_SOURCE[0]}")/services/ctl.ts" "$@"
