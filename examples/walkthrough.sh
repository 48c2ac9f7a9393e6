#!/usr/bin/env bash
# Calls every operation of jobagent-mock once, as a partner's client would, and prints
# "<operationId> <status>" for each answer. Needs curl and python3, and a running mock:
#   make run                      # in another terminal
#   examples/walkthrough.sh [BASE_URL]
# It works in a sandbox of its own (x-mock-sandbox) with the clock pinned, so its dates hold on
# any day and it never disturbs other callers.
set -euo pipefail
BASE=${1:-http://127.0.0.1:8080}
SANDBOX="walkthrough-$$"
CPR=1507851234           # fictitious persona with two saved searches
ID=3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
rid() { python3 -c 'import uuid; print(uuid.uuid4())'; }

TOKEN=$(curl -sf -d grant_type=client_credentials -d client_id=star-jobnet \
  -d client_secret=star-jobnet-secret "$BASE/connect/token" | json '["access_token"]')
AUTH=(-H "Authorization: Bearer $TOKEN" -H "x-mock-sandbox: $SANDBOX")

# call OPERATION METHOD PATH [curl options...]: prints the operation and the answer's status
call() {
  local operation=$1 method=$2 path=$3; shift 3
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' -X "$method" "${AUTH[@]}" "$@" "$BASE$path")
  echo "$operation $status"
}

curl -sf -X PUT "${AUTH[@]}" -H "Content-Type: application/json" \
  -d '{"now": "2026-11-25T10:00:00+01:00"}' "$BASE/__admin/clock" > /dev/null

call GetJobagenter GET /v1/Jobagent -H "x-civilRegistrationIdentifier: $CPR"
call CreateJobagent POST /v1/Jobagent -H "x-civilRegistrationIdentifier: $CPR" \
  -H "x-requestId: $(rid)" -H "Content-Type: application/json" \
  -d "{\"jobagentIdentifier\": \"$ID\", \"titel\": \"Lager i Aarhus\", \"jobagent\": {\"email\": \"lise.eksempel@example.dk\", \"udsendelsesinterval\": 1, \"smsNotifikation\": false}, \"soegeparametre\": {\"geografi\": {\"afstand\": {\"maxafstand\": 25, \"fraPostnummer\": 8000}}}}"
call GetJobagent GET "/v1/Jobagent/$ID" -H "x-civilRegistrationIdentifier: $CPR"
call UpdateJobagent PUT "/v1/Jobagent/$ID" -H "x-civilRegistrationIdentifier: $CPR" \
  -H "x-requestId: $(rid)" -H "Content-Type: application/json" \
  -d '{"titel": "Lager og logistik", "jobagent": {"email": "lise.eksempel@example.dk", "udsendelsesinterval": 2, "smsNotifikation": true}, "soegeparametre": {}}'
call UpdateJobagentVerificereEmail PUT "/v1/Jobagent/$ID/VerificereEmail" -H "x-requestId: $(rid)"
call GetJobagenterPaaEmail GET /v1/Jobagent/email/lise.eksempel%40example.dk
call DeleteJobagent DELETE "/v1/Jobagent/$ID" -H "x-civilRegistrationIdentifier: $CPR" \
  -H "x-requestId: $(rid)"
call CreateTilmelding POST /v1/Tilmelding -H "x-civilRegistrationIdentifier: 2208921234" \
  -H "x-requestId: $(rid)" -H "Content-Type: application/json" \
  -d '{"klientkategori": 2, "tilmeldingsdato": "2026-11-25T08:00:00+01:00", "ledighedsgrad": 1}'
call TilmeldOgBook POST /v1/Tilmelding/TilmeldOgBook -H "x-civilRegistrationIdentifier: $CPR" \
  -H "x-requestId: $(rid)" -H "Content-Type: application/json" \
  -d '{"klientkategori": 2, "tilmeldingsdato": "2026-11-25T08:00:00+01:00", "ledighedsgrad": 1, "bookingStartTime": "2026-11-26T09:00:00+01:00", "moedetilbudId": "3a1f5e2d-6b7c-4d8e-9f0a-1b2c3d4e5f60", "samtaleformType": 1}'
# a persona: the dead citizen cannot enroll (422, fejlkode 4405)
call CreateTilmelding POST /v1/Tilmelding -H "x-civilRegistrationIdentifier: 0202701405" \
  -H "x-requestId: $(rid)" -H "Content-Type: application/json" \
  -d '{"klientkategori": 2, "tilmeldingsdato": "2026-11-25T08:00:00+01:00", "ledighedsgrad": 1}'

curl -sf -X POST "${AUTH[@]}" "$BASE/__admin/reset" > /dev/null
