#!/usr/bin/env bash
# `make container-test`: build the Containerfile and run the image as a partner would: the
# README's offline route (wheel, wheelhouse, image), its run recipe (run, a token with curl),
# its health check, the smoke flow, `token` inside it, and fixtures overlaid by a volume.
# Where no registry of base images can be reached, the base is made locally from Debian's
# packages (container/base-image.sh); BASE=python:3.11-slim uses the official image instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=$PWD/container/containers.conf
BASE=${BASE:-localhost/jobagent-base:bookworm}
IMAGE=localhost/jobagent-mock:test

missing=$(for tool in podman runc debootstrap curl; do command -v $tool >/dev/null || echo $tool; done)
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || { echo "container-test needs:" $missing "(apt-get install as root)"; exit 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
case $BASE in localhost/*) container/base-image.sh "$BASE" ;; esac

# 0. The README's offline route as written (needs a clone): the wheel built clean, a wheelhouse
# of it and its dependencies at the pinned versions (from pip's cache or the package registry;
# async-timeout: redis needs it on the base's Python 3.11.2, which the host's pip, on a newer
# 3.11, would leave out), and an image built from those wheels alone, with no network of its
# own (podman for docker, the local base, this image's tag).
rm -rf container/wheelhouse
trap 'rm -rf container/wheelhouse' EXIT
OFFLINE=$(.venv/bin/python - "$BASE" "$IMAGE" <<'PY'
import re, sys
base, image = sys.argv[1:]
readme = open("README.md", encoding="utf-8").read()
block = re.search(r"<!-- recipe:offline-image .*?-->\n```sh\n(.*?)```", readme, re.DOTALL).group(1)
block = re.sub(r"^pip ", ".venv/bin/pip --disable-pip-version-check --quiet ", block, flags=re.M)
block = block.replace("docker build -t jobagent-mock ",
                      f"podman build --quiet --format docker --build-arg BASE={base} -t {image} ")
assert "docker build" not in block, block
print(block)
PY
)
bash -euo pipefail -c "$OFFLINE" >/dev/null
[ ! -e build ] || { echo "FAIL: the wheel's build left build/ in the checkout"; exit 1; }

free_port() {
    .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# podman's timer for the image's HEALTHCHECK needs systemd, which CI hosts lack, and says so on
# stderr: the health check is run by hand below
quiet_systemd() { "$@" 2> >(grep -v "systemd connection" >&2); }
healthy() {
    for _ in $(seq 60); do
        podman healthcheck run "$1" >/dev/null 2>&1 && return 0
        sleep 1
    done
    podman logs "$1"; echo "FAIL: never healthy"; return 1
}
CONTAINERS=()
trap 'for c in "${CONTAINERS[@]}"; do podman rm -f "$c" >/dev/null 2>&1; done; rm -rf container/wheelhouse "${OURS:-}"' EXIT

# 1. The README's recipe as written (podman for docker, a free port for 8080, this image)
PORT=$(free_port)
RECIPE=$(.venv/bin/python - "$PORT" "$IMAGE" <<'PY'
import re, sys
port, image = sys.argv[1:]
readme = open("README.md", encoding="utf-8").read()
block = re.search(r"<!-- recipe:container .*?-->\n```sh\n(.*?)```", readme, re.DOTALL).group(1)
block = block.replace("docker run -d -p 8080:8080 jobagent-mock",
                      f"CONTAINER=$(podman run -d -p 127.0.0.1:{port}:8080 {image})")
assert "docker" not in block, block
print(block.replace("127.0.0.1:8080", f"127.0.0.1:{port}") + 'echo "$CONTAINER $TOKEN"')
PY
)
read -r CONTAINER TOKEN < <(quiet_systemd bash -euo pipefail -c "$RECIPE")
CONTAINERS+=("$CONTAINER")
[ -n "$TOKEN" ] || { echo "FAIL: the README's recipe got no token"; exit 1; }
healthy "$CONTAINER"
[ "$(podman exec "$CONTAINER" id -u)" = 10001 ] || { echo "FAIL: the mock runs as root"; exit 1; }
# inside the container, `token` finds the mock and its clients by the same variables as serve
podman exec "$CONTAINER" jobagent-mock token >/dev/null
.venv/bin/python -m tests.smoke "http://127.0.0.1:$PORT" "$TOKEN"

# 2. A partner's persona, overlaid by a volume on /fixtures, and settings from variables
OURS=$(mktemp -d)
echo '[{"cpr": "0101901234", "description": "Ukendt hos os", "fejlkoder": [1010]}]' \
    >"$OURS/personas.json"
chmod -R a+rX "$OURS"
PORT=$(free_port)
CONTAINER=$(quiet_systemd podman run -d -p "127.0.0.1:$PORT:9090" -e JOBAGENT_MOCK_PORT=9090 \
    -e JOBAGENT_MOCK_SIGNING_KEY="$(head -c 32 /dev/urandom | base64)" \
    -v "$OURS:/fixtures:ro" "$IMAGE")
CONTAINERS+=("$CONTAINER")
healthy "$CONTAINER"
TOKEN=$(podman exec "$CONTAINER" jobagent-mock token)
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -H "x-civilRegistrationIdentifier: 0101901234" "http://127.0.0.1:$PORT/v1/Jobagent")
[ "$status" = 404 ] || { echo "FAIL: the overlaid persona answered $status, not 404 (1010)"; exit 1; }
podman logs "$CONTAINER" | grep -q "^GET /v1/Jobagent 404 1010 " ||
    { podman logs "$CONTAINER"; echo "FAIL: no access line"; exit 1; }
echo "container-test passed: $IMAGE on $BASE (the README's recipe, healthy, non-root, token," \
    "smoke flow, overlay by volume, settings by variables)"
