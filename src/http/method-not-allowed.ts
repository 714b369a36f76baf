import type { FastifyInstance, HTTPMethods } from 'fastify';
import { MethodNotAllowedError } from '../errors.js';
import { isOpenAiPath } from './openai-errors.js';
import { openAiErrorResponses } from './openai-schemas.js';
import { errorRef } from './schemas.js';

const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** What the routes on one URL serve, gathered as they are registered. */
interface Served {
  /** The URL within the scope that registered it (without the scope's prefix). */
  path: string;
  methods: HTTPMethods[];
  public: boolean;
}

/**
 * Every route registered in `app` from now on: the other methods on its URL are answered with
 * 405 and an Allow header (HEAD with GET, as Fastify serves it), instead of a 404, in the
 * error shape of the URL's API, and open without a key when the URL's routes are. With CORS
 * on, OPTIONS is left to the CORS preflight handler.
 *
 * The 405 route of a URL is added once the plugin that registered its routes has loaded, when
 * every method it serves is known, in that plugin's scope.
 */
export function answerOtherMethodsWith405(
  app: FastifyInstance,
  { corsEnabled }: { corsEnabled: boolean },
): void {
  const served = new Map<string, Served>();
  /** URLs whose 405 route is added: that route is not one to answer for in turn. */
  const answered = new Set<string>();
  app.addHook('onRoute', function (route) {
    const { url } = route;
    if (answered.has(url)) return;
    let entry = served.get(url);
    if (!entry) {
      const newEntry: Served = { path: route.routePath, methods: [], public: false };
      served.set(url, newEntry);
      entry = newEntry;
      this.after(() => {
        answered.add(url);
        addMethodNotAllowedRoute(this, url, newEntry, corsEnabled);
      });
    }
    // HEAD is Fastify's own route beside each GET.
    const methods = [route.method].flat().filter((method) => method !== 'HEAD');
    entry.methods.push(...methods);
    entry.public ||= route.config?.public === true;
  });
}

function addMethodNotAllowedRoute(
  scope: FastifyInstance,
  url: string,
  served: Served,
  corsEnabled: boolean,
) {
  const allow = served.methods.includes('GET') ? [...served.methods, 'HEAD'] : served.methods;
  const skip = corsEnabled ? [...allow, 'OPTIONS'] : allow;
  scope.route({
    method: METHODS.filter((method) => !skip.includes(method)),
    url: served.path,
    config: { public: served.public },
    schema: {
      hide: true,
      response: { 405: isOpenAiPath(url) ? openAiErrorResponses['4xx'] : errorRef },
    },
    handler: async (request) => {
      throw new MethodNotAllowedError(request.method, url, allow);
    },
  });
}
