import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { OpenAIAnswerer } from '../src/answerer/openai-answerer.js';
import { createOpenAIClient } from '../src/answerer/openai-client.js';
import { loadConfig } from '../src/config.js';
import {
  ERRORS,
  LlmError,
  LlmTimeoutError,
  StoredFailureError,
  UnauthorizedError,
} from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { useFakeOpenAI } from './helpers/suite.js';

describe('the error table', () => {
  it('when an error is made from a code, then its status and headers come from the one table', () => {
    const error = new UnauthorizedError();

    expect(error.status).toBe(ERRORS.unauthorized.status);
    expect(error.headers).toEqual({ 'www-authenticate': 'Bearer' });
  });

  it('when a stored failure is replayed, then its status is the table’s for its code', () => {
    expect(new StoredFailureError(7, { code: 'llm_timeout', message: 'slow' })).toMatchObject({
      code: 'llm_timeout',
      status: 504,
      details: { id: 7 },
    });
    expect(new StoredFailureError(7, { code: 'interrupted', message: 'stopped' }).status).toBe(503);
  });

  it('when an LLM error is tied to a question, then a new error carries the id and the original is unchanged', () => {
    const cause = new Error('upstream');
    const original = new LlmTimeoutError('slow', { cause });

    const withId = original.withQuestionId(42);

    expect(withId).toBeInstanceOf(LlmError);
    expect(withId).toMatchObject({ code: 'llm_timeout', status: 504, details: { id: 42 }, cause });
    expect(original.details).toEqual({});
  });
});

describe('the answerer keeps the SDK’s error as the cause', () => {
  const llm = useFakeOpenAI();

  it('when the LLM fails, then the LlmError’s cause is the SDK’s error, for the logs', async () => {
    const config = loadConfig({ OPENAI_BASE_URL: llm.fake.baseUrl, OPENAI_MAX_RETRIES: '0' });
    const answerer = new OpenAIAnswerer(
      createOpenAIClient(config.openai),
      config.openai,
      createLogger('silent'),
    );
    llm.fake.setBehavior({ fault: 'server_error' });

    const error: unknown = await answerer.answer('Fail?').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(LlmError);
    expect((error as LlmError).code).toBe('llm_unavailable');
    expect((error as LlmError).cause).toBeInstanceOf(OpenAI.InternalServerError);
  });
});
