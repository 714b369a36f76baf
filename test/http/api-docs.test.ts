import { describe, expect, it } from 'vitest';
import { useAskbaseSuite } from '../helpers/suite.js';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown> };
}

describe('API documentation', () => {
  const suite = useAskbaseSuite({ llm: 'none' });

  async function openApi(): Promise<OpenApiDocument> {
    const response = await fetch(`${suite.askbase.url}/openapi.json`);
    expect(response.status).toBe(200);
    return (await response.json()) as OpenApiDocument;
  }

  it('when /openapi.json is read, then it is an OpenAPI 3.1 document of every route and method', async () => {
    const document = await openApi();

    expect(document.openapi).toBe('3.1.0');
    const operations = Object.fromEntries(
      Object.entries(document.paths).map(([path, methods]) => [path, Object.keys(methods).sort()]),
    );
    expect(operations).toEqual({
      '/ask': ['post'],
      '/qa/{id}': ['delete', 'get'],
      '/qa/{id}/retry': ['post'],
      '/qa/{id}/exchange': ['get'],
      '/conversations/{id}': ['get'],
      '/v1/chat/completions': ['post'],
      '/v1/models': ['get'],
      '/v1/responses': ['post'],
      '/v1/responses/{id}': ['delete', 'get'],
      '/v1/responses/{id}/input_items': ['get'],
      '/qas': ['get'],
      '/qas/export': ['get'],
      '/stats': ['get'],
      '/is_up': ['get'],
      '/health/ready': ['get'],
      '/metrics': ['get'],
    });
  });

  it('when /openapi.json is read, then every operation documents its success and error responses', async () => {
    const document = await openApi();

    for (const methods of Object.values(document.paths)) {
      for (const operation of Object.values(methods)) {
        expect(Object.keys(operation.responses)).toContain('200');
      }
    }
    expect(Object.keys(document.paths['/ask']?.post?.responses ?? {})).toEqual([
      '200',
      '4XX',
      '5XX',
    ]);
    const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
    expect(document.paths['/ask']?.post?.responses['200']).toMatchObject({
      content: {
        'application/json': { schema: ref('QuestionAnswer') },
        'text/event-stream': {
          schema: {
            oneOf: [
              ref('AskCreatedEvent'),
              ref('AskDeltaEvent'),
              ref('QuestionAnswer'),
              ref('ErrorBody'),
            ],
          },
        },
      },
    });
    expect(Object.keys(document.components.schemas).sort()).toEqual([
      'AskCreatedEvent',
      'AskDeltaEvent',
      'ErrorBody',
      'QuestionAnswer',
    ]);
  });

  it('when /openapi.json is read, then each error response lists exactly the codes its route can return', async () => {
    const document = await openApi();
    const codes = (path: string, method: string, range: '4XX' | '5XX') => {
      const response = document.paths[path]?.[method]?.responses[range] as {
        content: {
          'application/json': {
            schema: { properties: { error: { properties: { code: { enum: string[] } } } } };
          };
        };
      };
      return response.content['application/json'].schema.properties.error.properties.code.enum;
    };

    expect(codes('/qa/{id}', 'get', '4XX').sort()).toEqual([
      'invalid_request',
      'not_found',
      'unauthorized',
    ]);
    expect(codes('/qa/{id}', 'get', '5XX').sort()).toEqual([
      'database_unavailable',
      'internal_error',
      'shutting_down',
    ]);
    expect(codes('/ask', 'post', '4XX')).toEqual(
      expect.arrayContaining(['invalid_json', 'idempotency_key_reused', 'request_in_progress']),
    );
    expect(codes('/ask', 'post', '4XX')).not.toContain('not_found');
    expect(codes('/ask', 'post', '5XX')).toEqual(
      expect.arrayContaining([
        'llm_timeout',
        'llm_unavailable',
        'interrupted',
        'llm_not_configured',
      ]),
    );
    expect(codes('/qas', 'get', '4XX')).not.toContain('not_retryable');
  });

  it('when /openapi.json is read, then the stored question and the error body allow no undocumented fields', async () => {
    const { components } = await openApi();

    expect(components.schemas.QuestionAnswer).toMatchObject({ additionalProperties: false });
    expect(components.schemas.ErrorBody).toMatchObject({ additionalProperties: false });
  });

  it('when /openapi.json is read, then the list filters are documented as query parameters', async () => {
    const document = await openApi();

    const parameters = (document.paths['/qas']?.get as { parameters?: { name: string }[] })
      ?.parameters;
    expect(parameters?.map((parameter) => parameter.name)).toEqual([
      'limit',
      'cursor',
      'q',
      'status',
      'kind',
      'conversation',
      'key',
      'since',
      'until',
    ]);
  });

  it('when /docs is opened, then Swagger UI is served as HTML with every asset from askbase itself', async () => {
    const response = await fetch(`${suite.askbase.url}/docs`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map(([, url = '']) => url);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const url = new URL(asset, response.url);
      // No CDN: the page works with no internet access.
      expect(url.origin).toBe(suite.askbase.url);
      const served = await fetch(url);
      await served.arrayBuffer(); // read to the end, so the connection is free when askbase stops
      expect(served.status, url.pathname).toBe(200);
    }
  });
});
