#!/usr/bin/env bash
# `make container-test`: build the Containerfile and run the image as a partner would: wait for
# its health check, get a token with curl, run the smoke flow, overlay fixtures by volume.
# Where no registry of base images can be reached, the base is made locally from Debian's
# packages (container/base-image.sh); BASE=python:3.11-slim uses the official image instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=$PWD/container/containers.conf
BASE=${BASE:-localhost/jobagent-base:bookworm}
IMAGE=localhost/jobagent-mock:test
NAME=jobagent-mock-test-$$

missing=$(for tool in podman runc debootstrap curl; do command -v $tool >/dev/null || echo $tool; done)
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || { echo "container-test needs:" $missing "(apt-get install as root)"; exit 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
case $BASE in localhost/*) container/base-image.sh "$BASE" ;; esac

# the wheel and its dependencies, from pip's cache or the package registry: the build reads them
# from the context and needs no network of its own (async-timeout: redis needs it on the base's
# Python 3.11.2, and the host's pip, on a newer 3.11, would leave it out)
# (and build/, whose stale build/lib setuptools would put into the wheel)
rm -rf container/wheelhouse build
.venv/bin/pip wheel --quiet --disable-pip-version-check -c constraints.txt \
    -w container/wheelhouse '.[redis]' async-timeout
trap 'podman rm -f "$NAME" >/dev/null 2>&1 || true; rm -rf container/wheelhouse "${OURS:-}"' EXIT
podman build --quiet --format docker --build-arg BASE="$BASE" -t "$IMAGE" -f Containerfile . >/dev/null

# a partner's persona, overlaid by a volume on /fixtures
OURS=$(mktemp -d)
echo '[{"cpr": "0101901234", "description": "Ukendt hos os", "fejlkoder": [1010]}]' \
    >"$OURS/personas.json"
chmod -R a+rX "$OURS"
PORT=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# the host's network on a free port: other servers on this machine are left alone; the image's
# HEALTHCHECK is run below by hand (podman's timer for it needs systemd, which CI hosts lack,
# and says so on stderr)
podman run -d --name "$NAME" --network host -e JOBAGENT_MOCK_HOST=127.0.0.1 \
    -e JOBAGENT_MOCK_PORT="$PORT" -v "$OURS:/fixtures:ro" "$IMAGE" \
    > /dev/null 2> >(grep -v "systemd connection" >&2)

for _ in $(seq 60); do
    podman healthcheck run "$NAME" >/dev/null 2>&1 && break
    sleep 1
done
podman healthcheck run "$NAME" >/dev/null || { podman logs "$NAME"; echo "FAIL: never healthy"; exit 1; }
[ "$(podman exec "$NAME" id -u)" = 10001 ] || { echo "FAIL: the mock runs as root"; exit 1; }
# inside the container, `token` finds the mock and its clients by the same variables as serve
podman exec "$NAME" jobagent-mock token >/dev/null

BASE_URL=http://127.0.0.1:$PORT
TOKEN=$(curl -sf --retry 30 --retry-connrefused --retry-delay 1 -d grant_type=client_credentials \
    -d client_id=star-jobnet -d client_secret=star-jobnet-secret "$BASE_URL/connect/token" |
    .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
.venv/bin/python -m tests.smoke "$BASE_URL" "$TOKEN"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -H "x-civilRegistrationIdentifier: 0101901234" "$BASE_URL/v1/Jobagent")
[ "$status" = 404 ] || { echo "FAIL: the overlaid persona answered $status, not 404 (1010)"; exit 1; }
podman logs "$NAME" | grep -q "^GET /v1/Jobagent 404 1010 " ||
    { podman logs "$NAME"; echo "FAIL: no access line"; exit 1; }
echo "container-test passed: $IMAGE on $BASE (healthy, non-root, token, smoke flow, overlay)"
