#!/bin/sh
# Sets up cloudfunc on a Debian machine and serves it behind nginx on
# http://localhost:3000: installs the packages, builds and installs the
# responder, starts the Docker engine if none answers, builds a local
# busybox:latest image when the engine has none, runs the responder under
# spawn-fcgi as the user "cloudfunc", and points nginx at it.
# Run from the source tree, as root: sudo sh conf/quickstart.sh
set -eu
cd "$(dirname "$0")/.."
PREFIX=/usr/local
ENGINE_SOCK=/var/run/docker.sock

say() { printf '== %s\n' "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: sudo sh conf/quickstart.sh"

say "installing packages"
apt-get update -q > /dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	autoconf automake make gcc pkg-config libfcgi-dev libcurl4-openssl-dev \
	libjson-c-dev docker.io busybox-static nginx-light spawn-fcgi curl \
	> /dev/null

say "building and installing cloudfunc-fcgi"
[ -x configure ] || ./autogen.sh > /dev/null 2>&1
mkdir -p build-install
(
	cd build-install
	[ -f Makefile ] || ../configure -q --prefix="$PREFIX"
	make -s -j2 > /dev/null
	make -s install > /dev/null
)

engine_answers() {
	curl -s --max-time 2 --unix-socket "$ENGINE_SOCK" http://engine/_ping \
		2>/dev/null | grep -q OK
}

wait_engine() {
	for i in $(seq 1 60); do
		engine_answers && return 0
		sleep 0.5
	done
	return 1
}

if ! engine_answers; then
	say "starting the Docker engine"
	if [ -d /run/systemd/system ]; then
		systemctl enable --now docker.socket docker.service
	else
		dockerd >> /var/log/cloudfunc-dockerd.log 2>&1 &
		# Machines without iptables or a bridge module: cloudfunc's
		# functions run without a network by default, so none is needed.
		if ! wait_engine; then
			pkill -x dockerd || true
			sleep 1
			dockerd --bridge=none --iptables=false \
				>> /var/log/cloudfunc-dockerd.log 2>&1 &
		fi
	fi
	wait_engine || die "the engine did not start: see /var/log/cloudfunc-dockerd.log"
fi

if ! curl -sf --unix-socket "$ENGINE_SOCK" \
	http://engine/images/busybox:latest/json > /dev/null; then
	say "building busybox:latest from Debian's busybox-static"
	sh conf/busybox-image.sh -H "unix://$ENGINE_SOCK"
fi

say "starting cloudfunc-fcgi under spawn-fcgi"
id cloudfunc > /dev/null 2>&1 ||
	useradd --system --no-create-home --shell /usr/sbin/nologin \
		--groups docker cloudfunc
if [ -f /run/cloudfunc/cloudfunc.pid ]; then
	kill "$(cat /run/cloudfunc/cloudfunc.pid)" 2> /dev/null || true
	sleep 1
fi
rm -f /run/cloudfunc/cloudfunc.sock
mkdir -p /run/cloudfunc
PREFIX=$PREFIX setsid sh conf/spawn-fcgi/cloudfunc-spawn \
	>> /var/log/cloudfunc.log 2>&1 < /dev/null &
echo $! > /run/cloudfunc/cloudfunc.pid

say "pointing nginx at it (port 3000)"
cp conf/nginx/cloudfunc.conf /etc/nginx/conf.d/cloudfunc.conf
nginx -t -q
if [ -d /run/systemd/system ]; then
	systemctl enable nginx > /dev/null 2>&1 || true
	systemctl reload-or-restart nginx
elif [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
	nginx -s reload
else
	nginx
fi

sleep 1
say "GET http://localhost:3000/spawnTestContainer"
curl -sS --max-time 60 http://localhost:3000/spawnTestContainer
echo
