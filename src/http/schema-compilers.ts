import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { isDateTime } from './date-time-format.js';

// Query strings, headers and path parameters arrive as text and are coerced ("?limit=5");
// JSON bodies are not, so {"question": 42} is rejected instead of becoming "42". One pair per
// process: the route schemas are constants, so an app built again (tests build dozens) finds
// its validators compiled in Ajv's cache.
const ajvOptions = { useDefaults: true, removeAdditional: true, allErrors: false } as const;
const coercing = new Ajv({ ...ajvOptions, coerceTypes: 'array' });
const strict = new Ajv({ ...ajvOptions, coerceTypes: false });
for (const ajv of [coercing, strict]) ajv.addFormat('date-time', isDateTime);

/** The validator compiler of every route (app.setValidatorCompiler): see compiledOnFirstUse. */
export const lazyValidator: FastifySchemaCompiler<AnySchema> = ({ schema, httpPart }) =>
  compiledOnFirstUse(httpPart === 'body' ? strict : coercing, schema);

/**
 * A route's validator, compiled when the route first validates a request rather than when the
 * app is built: compiling every route's at start was about 0.2 s of askbase's start (a fifth of
 * it). The first request of each route pays its few milliseconds instead.
 */
function compiledOnFirstUse(ajv: Ajv, schema: AnySchema): ValidateFunction {
  let compiled: ValidateFunction | undefined;
  const compile = () => (compiled ??= ajv.compile(schema));
  const validate = ((data: unknown, context?: Parameters<ValidateFunction>[1]) => {
    const run = compile();
    const valid = run(data, context);
    validate.errors = run.errors;
    return valid;
  }) as ValidateFunction;
  // Fastify gives Ajv's own validators the request as the parent of what they validate (so
  // that Ajv can coerce a root value), telling them apart by this property.
  Object.defineProperty(validate, 'schemaEnv', { get: () => compile().schemaEnv });
  return validate;
}

// The response serializers Fastify compiles per route and status (fast-json-stringify): also
// compiled on first use, and kept per process (Fastify keeps them per app), keyed by the
// schemas they serialize.
const serializers = new Map<string, SerializerSelector.Serializer>();
const buildSerializers = SerializerSelector();

/** The serializer compilers' factory (schemaController.compilersFactory.buildSerializer). */
export function lazySerializers(
  externalSchemas?: unknown,
  options?: SerializerSelector.Options,
): SerializerSelector.SerializerCompiler {
  const compile = buildSerializers(externalSchemas, options);
  const scope = JSON.stringify([externalSchemas, options]);
  return (route) => {
    let serializer: SerializerSelector.Serializer | undefined;
    return (doc) => {
      if (!serializer) {
        const key = `${scope}${JSON.stringify(route.schema)}`;
        serializer = serializers.get(key);
        if (!serializer) serializers.set(key, (serializer = compile(route)));
      }
      return serializer(doc);
    };
  };
}
