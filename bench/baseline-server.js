/* global process, console, fetch, performance, Buffer */
/**
 * The baseline askbase is measured against: the same two endpoints written the shortest way,
 * with node:http, a pg Pool and plain fetch, and nothing else (no framework, no schema
 * validation, no ORM, no SDK). Same table, same lifecycle: insert pending, call the LLM with no
 * connection held, update answered, return the row as JSON.
 *
 * env: PORT, HOST, DATABASE_URL, DB_POOL_MAX, OPENAI_BASE_URL, OPENAI_MODEL
 */
import { createServer } from 'node:http';
import pg from 'pg';

const env = process.env;
const pool = new pg.Pool({
  connectionString: env.DATABASE_URL,
  max: Number(env.DB_POOL_MAX ?? 10),
  application_name: 'baseline',
});
const completionsUrl = `${env.OPENAI_BASE_URL}/chat/completions`;
const model = env.OPENAI_MODEL ?? 'gpt-5-mini';
const COLUMNS = `id, question, answer, status, model, prompt_tokens, completion_tokens,
  total_tokens, latency_ms, error_code, error_message, created_at, answered_at`;

const toJson = (row) => ({
  id: Number(row.id),
  question: row.question,
  answer: row.answer,
  status: row.status,
  created_at: row.created_at.toISOString(),
  answered_at: row.answered_at?.toISOString() ?? null,
  model: row.model,
  usage:
    row.total_tokens === null
      ? null
      : {
          prompt_tokens: row.prompt_tokens,
          completion_tokens: row.completion_tokens,
          total_tokens: row.total_tokens,
        },
  latency_ms: row.latency_ms,
  error: row.error_code === null ? null : { code: row.error_code, message: row.error_message },
});

function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

const fail = (res, status, code, message) => send(res, status, { error: { code, message } });

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function ask(req, res) {
  let question;
  try {
    question = JSON.parse(await readBody(req))?.question;
  } catch {
    return fail(res, 400, 'invalid_json', 'body is not valid JSON');
  }
  if (typeof question !== 'string' || question.trim() === '') {
    return fail(res, 400, 'invalid_request', 'question must be a non-empty string');
  }
  question = question.trim();
  const inserted = await pool.query(
    'insert into question_answers (question) values ($1) returning id',
    [question],
  );
  const id = inserted.rows[0].id;
  const started = performance.now();
  const response = await fetch(completionsUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: question }] }),
  });
  const completion = response.ok ? await response.json() : undefined;
  const latencyMs = Math.round(performance.now() - started);
  const text = completion?.choices?.[0]?.message?.content;
  if (typeof text !== 'string' || text === '') {
    await pool.query(
      `update question_answers set status = 'failed', error_code = 'llm_bad_response',
         error_message = 'the LLM failed', latency_ms = $2 where id = $1`,
      [id, latencyMs],
    );
    return fail(res, 502, 'llm_bad_response', 'the LLM failed');
  }
  const usage = completion.usage;
  const updated = await pool.query(
    `update question_answers set status = 'answered', answer = $2, model = $3,
       prompt_tokens = $4, completion_tokens = $5, total_tokens = $6, latency_ms = $7,
       answered_at = now()
     where id = $1 returning ${COLUMNS}`,
    [
      id,
      text,
      completion.model ?? model,
      usage?.prompt_tokens ?? null,
      usage?.completion_tokens ?? null,
      usage?.total_tokens ?? null,
      latencyMs,
    ],
  );
  send(res, 200, toJson(updated.rows[0]));
}

async function get(res, rawId) {
  const id = Number(rawId);
  if (!Number.isSafeInteger(id) || id < 1) return fail(res, 400, 'invalid_request', 'bad id');
  const { rows } = await pool.query(`select ${COLUMNS} from question_answers where id = $1`, [id]);
  if (rows.length === 0) return fail(res, 404, 'not_found', `no question with id ${id}`);
  send(res, 200, toJson(rows[0]));
}

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  let handled;
  if (req.method === 'POST' && url === '/ask') handled = ask(req, res);
  else if (req.method === 'GET' && url.startsWith('/qa/')) handled = get(res, url.slice(4));
  else if (req.method === 'GET' && url === '/is_up') handled = send(res, 200, { status: 'ok' });
  else handled = fail(res, 404, 'not_found', 'no such route');
  Promise.resolve(handled).catch((error) => {
    console.error(error);
    if (!res.headersSent) fail(res, 500, 'internal_error', 'internal server error');
    else res.destroy();
  });
});

server.listen(Number(env.PORT ?? 3001), env.HOST ?? '127.0.0.1', () => {
  console.log(`baseline listening on ${env.HOST ?? '127.0.0.1'}:${env.PORT ?? 3001}`);
});

const stop = () => {
  server.close();
  server.closeIdleConnections();
  void pool.end().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
