#!/usr/bin/env bash
# End-to-end test of askbase replicas behind HAProxy (`npm run test:e2e:replicas`):
# docker-compose.replicas.yml with 3 replicas, the fake LLM (a second per answer), and one
# budget of RATE_LIMIT_MAX=150 asks per client. 300 asks go through the load balancer, 30 at a
# time, one in ten failing at the LLM; a third of the way in one replica is killed (SIGKILL),
# two thirds in another is stopped (SIGTERM). Then:
#   - every 200 is stored as answered, with its answer;
#   - nothing is left pending 15 s after the burst: the survivors fail the killed replica's
#     asks as interrupted once its lease expires, long before their two-minute deadline;
#   - the rate limit held across replicas: at most 150 asks were let through, and the rest
#     got 429 (in memory, each replica would have let 150 through);
#   - the stopped replica exited 0.
# Images: NODE_IMAGE, POSTGRES_IMAGE, HAPROXY_IMAGE when set, else the official ones. With no
# Docker engine it skips (exit 0), except under CI=true, where it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

started_at=$SECONDS
log() { printf 'e2e-replicas: %s\n' "$*" >&2; }
fail() {
  log "FAILED: $*"
  exit 1
}
skip() {
  [ "${CI:-}" = true ] && fail "cannot run in CI: $*"
  echo "e2e-replicas: skipped: $*"
  exit 0
}

compose=()
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
fi
command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 ||
  skip "no Docker engine answers ('docker info' failed)"
[ "${#compose[@]}" -gt 0 ] || skip "neither 'docker compose' nor 'docker-compose' is installed"

export NODE_IMAGE=${NODE_IMAGE:-node:24-bookworm-slim} POSTGRES_IMAGE=${POSTGRES_IMAGE:-postgres:17} \
  HAPROXY_IMAGE=${HAPROXY_IMAGE:-haproxy:3.2}
for image in "$NODE_IMAGE" "$POSTGRES_IMAGE" "$HAPROXY_IMAGE"; do
  docker image inspect "$image" >/dev/null 2>&1 || timeout 300 docker pull -q "$image" >/dev/null 2>&1 ||
    fail "cannot pull $image; set NODE_IMAGE / POSTGRES_IMAGE / HAPROXY_IMAGE to images this engine has"
done

project="askbase-replicas-$(date +%s)-$$"
port=$(node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
env_file=$(mktemp)
cat >"$env_file" <<ENV
APP_BIND=127.0.0.1
APP_PORT=$port
RATE_LIMIT_MAX=150
RATE_LIMIT_WINDOW_MS=86400000
ANSWER_STORE_ATTEMPTS=1
ENV
dc() {
  "${compose[@]}" -p "$project" --env-file "$env_file" -f docker-compose.replicas.yml \
    -f docker-compose.e2e.yml -f docker-compose.replicas-e2e.yml "$@"
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$rc" -ne 0 ]; then
    log "logs of the failed run:"
    dc logs --no-color --tail 60 >&2 || true
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
log "project $project, ${compose[*]}, http://127.0.0.1:$port"
base="http://127.0.0.1:$port"
sql() { # one value from PostgreSQL
  # shellcheck disable=SC2016 # $POSTGRES_* expand in the db container
  dc exec -T db sh -c 'PGPASSWORD="$POSTGRES_PASSWORD" psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "$1"' sh "$1"
}

wait_healthy() { # until 3 replicas are healthy and the load balancer answers
  local deadline=$((SECONDS + 240)) healthy ready id
  while :; do
    mapfile -t apps < <(dc ps -q app)
    healthy=0
    for id in "${apps[@]}"; do
      [ "$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null)" = healthy ] && healthy=$((healthy + 1))
    done
    ready=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$base/health/ready" || true)
    [ "$healthy" -eq 3 ] && [ "$ready" = 200 ] && return
    [ "$SECONDS" -lt "$deadline" ] || fail "not ready after 240 s ($healthy/3 replicas healthy, LB $ready)"
    sleep 1
  done
}

log "building and starting 3 replicas behind HAProxy"
dc build >/dev/null
dc up -d --scale app=3
wait_healthy
log "ok: 3 replicas healthy, the load balancer answers"

log "300 asks, 30 at a time; killing one replica and stopping another on the way"
out=$(node scripts/e2e-replicas-burst.js "$base" "$project" "${apps[0]}" "${apps[1]}")
summary=$(node -e '
  const { events, results } = JSON.parse(process.argv[1]);
  const by = {};
  for (const r of results) by[r.status] = (by[r.status] ?? 0) + 1;
  const why = [...new Set(results.filter((r) => r.status !== 200 && r.status !== 429).map((r) => `${r.status} ${r.code ?? r.transport ?? ""}`))];
  console.log(`${events.join("; ")}; statuses ${JSON.stringify(by)}; others: ${why.join(", ")}`);
' "$out")
log "$summary"

# Every status is one a client can be given in these events, and none is a server error of
# ours; 0 is a connection the killed replica took down with it before any response.
node -e '
  const { results } = JSON.parse(process.argv[1]);
  const odd = results.filter((r) => ![0, 200, 429, 502, 503, 504].includes(r.status));
  if (odd.length) { console.error(JSON.stringify(odd.slice(0, 5))); process.exit(1); }
  const ok = results.filter((r) => r.status === 200);
  if (ok.some((r) => r.answer !== `Answer to: ${r.question}`)) process.exit(1);
  if (!results.some((r) => r.status === 429)) process.exit(1);
' "$out" || fail "unexpected statuses or answers: $summary"

ok_ids=$(node -e 'console.log(JSON.parse(process.argv[1]).results.filter((r) => r.status === 200).map((r) => r.id).join(","))' "$out")
ok_count=$(node -e 'console.log(JSON.parse(process.argv[1]).results.filter((r) => r.status === 200).length)' "$out")
stored=$(sql "select count(*) from question_answers where id in ($ok_ids) and status = 'answered' and answer = 'Answer to: ' || question")
[ "$stored" = "$ok_count" ] || fail "$ok_count asks answered 200, $stored of them are stored as answered with their answer"
log "ok: every one of the $ok_count 200s is stored as answered, with its answer"

let_through=$(sql "select count(*) from question_answers where question like 'Replica burst %($project)%'")
[ "$let_through" -le 150 ] || fail "$let_through asks were let through; the budget was 150 across replicas"
log "ok: the rate limit held across replicas: $let_through asks let through of 300, budget 150"

# The asks' deadline is the default two minutes: only the killed replica's expired lease
# (LEASE_TTL_MS, 10 s) lets the survivors fail its asks this soon after the kill.
deadline=$((SECONDS + 15))
while :; do
  pending=$(sql "select count(*) from question_answers where status = 'pending'")
  [ "$pending" = 0 ] && break
  [ "$SECONDS" -lt "$deadline" ] || fail "$pending questions still pending 15 s after the burst"
  sleep 1
done
interrupted=$(sql "select count(*) from question_answers where error_code = 'interrupted'")
log "ok: nothing left pending ($interrupted asks of the killed replica failed as interrupted, retryable)"

code=$(docker inspect -f '{{.State.ExitCode}}' "${apps[1]}")
[ "$code" = 0 ] || fail "the replica stopped with SIGTERM exited $code"
log "ok: the replica stopped with SIGTERM drained and exited 0"

log "a replica that never comes back: it spools answers while PostgreSQL is down, and is removed"
dc up -d --scale app=3 >/dev/null 2>&1
wait_healthy
doomed=${apps[0]}
marker="lost-replica-$project"
# Asks sent to that replica alone, stored as pending while PostgreSQL is still up; the fake
# LLM takes five seconds over them ([llm-slow]), so PostgreSQL is gone when they are answered.
docker exec -d "$doomed" node -e '
  for (let i = 0; i < 5; i += 1)
    fetch("http://127.0.0.1:3000/ask", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ question: `Kept ${i} [llm-slow] (${process.argv[1]})` }) }).catch(() => {});
  setTimeout(() => {}, 30000);
' "$marker"
deadline=$((SECONDS + 30))
until [ "$(sql "select count(*) from question_answers where question like '%($marker)' and status = 'pending'")" = 5 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the 5 asks to the doomed replica were not stored as pending"
  sleep 0.2
done
dc stop db >/dev/null 2>&1
# The LLM answers within its second; the database is away, so each answer is spooled.
deadline=$((SECONDS + 60))
until [ "$(docker logs "$doomed" 2>&1 | grep -c 'outcome spooled to disk')" -ge 5 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the doomed replica did not spool its 5 answers"
  sleep 0.5
done
docker rm -f "$doomed" >/dev/null
dc start db >/dev/null 2>&1
deadline=$((SECONDS + 120))
until [ "$(sql "select count(*) from question_answers where question like '%($marker)' and status = 'answered' and answer = 'Answer to: ' || question" 2>/dev/null)" = 5 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "the removed replica's spooled answers were not all stored 120 s after PostgreSQL returned"
  sleep 1
done
rows=$(sql "select count(*) from question_answers where question like '%($marker)'")
[ "$rows" = 5 ] || fail "$rows rows for the 5 asks"
log "ok: another replica stored every one of the removed replica's 5 spooled answers, each once"
log "passed in $((SECONDS - started_at)) s"
