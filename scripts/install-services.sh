#!/usr/bin/env bash
# Debian's redis-server and nginx: the tests start their own Redis (a shared tracker store) and nginx
# (the reference deployment in deploy/) on free ports. Needs root or sudo the first time; does nothing
# when both are there. Neither is started here.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing Debian's ${missing[*]} for the tests" >&2
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# The packages' own services are not wanted (the tests start their own): keep apt from starting them.
printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
$sudo chmod +x /usr/sbin/policy-rc.d
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || { $sudo rm -f /usr/sbin/policy-rc.d; exit 1; }
$sudo rm -f /usr/sbin/policy-rc.d
for program in redis-server nginx; do
    command -v $program >/dev/null || [ -x /usr/sbin/$program ] || [ -x /usr/bin/$program ] \
        || { echo "error: $program did not install" >&2; exit 1; }
done
