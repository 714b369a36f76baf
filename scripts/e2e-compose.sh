#!/usr/bin/env bash
# End-to-end test of the Docker Compose stack (`npm run test:e2e`): builds the image, starts
# PostgreSQL, askbase and a fake OpenAI server (docker-compose.e2e.yml) under a unique project
# name, publishes askbase on a free port of 127.0.0.1 only, then asks a question and reads it
# back: at once, after restarting the app container, and after `down` + `up` (the volume keeps
# the data). Everything, volume included, is removed on exit, pass or fail.
#
# Images: NODE_IMAGE / POSTGRES_IMAGE when set, else the official ones. With no Docker engine
# it prints "e2e: skipped: <why>" and exits 0, except under CI=true, where it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

started_at=$SECONDS
log() { printf 'e2e: %s\n' "$*" >&2; }
fail() {
  log "FAILED: $*"
  exit 1
}
# Locally a machine without Docker skips; in CI (CI=true) a skip would read as a pass, so it fails.
skip() {
  if [ "${CI:-}" = true ]; then
    fail "cannot run in CI: $*"
  fi
  echo "e2e: skipped: $*"
  exit 0
}

# 1. A Docker engine and a compose command, or a clear skip.
compose=()
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
fi
command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 ||
  skip "no Docker engine answers ('docker info' failed)"
[ "${#compose[@]}" -gt 0 ] || skip "neither 'docker compose' nor 'docker-compose' is installed"

# 2. Base images: the given or the official ones, present or pullable.
export NODE_IMAGE=${NODE_IMAGE:-node:24-bookworm-slim} POSTGRES_IMAGE=${POSTGRES_IMAGE:-postgres:17}
for image in "$NODE_IMAGE" "$POSTGRES_IMAGE"; do
  docker image inspect "$image" >/dev/null 2>&1 || timeout 300 docker pull -q "$image" >/dev/null 2>&1 ||
    fail "cannot pull $image; set NODE_IMAGE / POSTGRES_IMAGE to images this engine has"
done
command -v curl >/dev/null 2>&1 || fail "curl is needed"

# 3. A project of our own, on a free loopback port, hermetic from the developer's .env.
project="askbase-e2e-$(date +%s)-$$"
port=$(node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
export APP_BIND=127.0.0.1 APP_PORT=$port
env_file=$(mktemp)
dc() {
  "${compose[@]}" -p "$project" --env-file "$env_file" \
    -f docker-compose.yml -f docker-compose.e2e.yml "$@"
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$rc" -ne 0 ]; then
    log "logs of the failed run:"
    dc logs --no-color --tail 80 >&2 || true
  fi
  log "tearing down $project (down -v)"
  dc down -v --remove-orphans -t 10 >/dev/null 2>&1 || log "warning: 'down -v' failed for $project"
  rm -f "$env_file"
  log "took $((SECONDS - started_at)) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log "project $project, ${compose[*]}, NODE_IMAGE=$NODE_IMAGE POSTGRES_IMAGE=$POSTGRES_IMAGE, http://127.0.0.1:$port"

base="http://127.0.0.1:$port"
status='' body=''
request() { # METHOD PATH [JSON]: sets status and body
  local out
  out=$(curl -sS -m 30 -X "$1" -H 'content-type: application/json' ${3:+--data "$3"} \
    -w '\n%{http_code}' "$base$2") || out=$'\n000'
  status=${out##*$'\n'}
  body=${out%$'\n'*}
}
field() { # KEY: that field of the JSON body, or nothing
  node -p 'try { JSON.parse(process.argv[1])[process.argv[2]] ?? "" } catch { "" }' "$body" "$1"
}

wait_ready() { # the app container healthy, then /is_up through the published port
  local id state deadline=$((SECONDS + 180))
  while :; do
    id=$(dc ps -q app 2>/dev/null || true)
    state=$([ -n "$id" ] && docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null || echo missing)
    if [ "$state" = healthy ]; then
      request GET /is_up
      [ "$status" = 200 ] && return 0
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail "app not ready after 180 s (container: $state, /is_up: $status)"
    sleep 1
  done
}

check_read_back() { # LABEL: GET /qa/{id} returns the stored answer
  request GET "/qa/$id"
  [ "$status" = 200 ] || fail "$1: GET /qa/$id answered $status: $body"
  [ "$(field question)" = "$question" ] || fail "$1: wrong question: $body"
  [ "$(field answer)" = "$expected_answer" ] || fail "$1: wrong answer: $body"
  [ "$(field status)" = answered ] || fail "$1: wrong status: $body"
  log "ok: $1: GET /qa/$id returns the question and its answer"
}

# 4. The test.
log "building and starting the stack"
dc up -d --build
wait_ready
log "ok: app healthy"

question="What is the capital of France? ($project)"
expected_answer="Answer to: $question"
request POST /ask "$(node -p 'JSON.stringify({ question: process.argv[1] })' "$question")"
[ "$status" = 200 ] || fail "POST /ask answered $status: $body"
id=$(field id)
[ -n "$id" ] || fail "POST /ask returned no id: $body"
[ "$(field answer)" = "$expected_answer" ] || fail "POST /ask: unexpected answer: $body"
log "ok: POST /ask stored question $id with the fake's answer"

check_read_back "at once"
request GET /qas
[ "$status" = 200 ] || fail "GET /qas answered $status: $body"
node -e 'const a = JSON.parse(process.argv[1]); process.exit(Array.isArray(a) && a.some((q) => q.id === Number(process.argv[2])) ? 0 : 1)' "$body" "$id" ||
  fail "GET /qas does not list $id: $body"
log "ok: GET /qas lists it"
# shellcheck disable=SC2016 # $POSTGRES_* expand in the db container, not here
row=$(dc exec -T db sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "select status from question_answers where id = '"$id"'"')
[ "$row" = answered ] || fail "the row in PostgreSQL has status '$row'"
log "ok: PostgreSQL holds the row"

dc restart app
wait_ready
check_read_back "after restarting the app container"

dc down
dc up -d
wait_ready
check_read_back "after down (volume kept) and up"

docker image ls --format 'e2e: image {{.Repository}}:{{.Tag}} {{.Size}}' "${APP_IMAGE:-askbase:e2e}" >&2
log "passed in $((SECONDS - started_at)) s"
