/**
 * The OpenAPI 3 description of the client routes, served at /openapi.json. Kept by hand
 * next to the routes; test/integration/openapi.test.ts checks that every route it lists
 * answers, so the two cannot drift apart silently.
 */

const key = {
  name: 'key',
  in: 'path',
  required: true,
  description:
    'The key, percent-encoded (encoded slashes allowed). `.` and `..` only work as ?key=.',
  schema: { type: 'string', minLength: 1 },
};
const keyQuery = { ...key, in: 'query', description: 'The key (the form for `.` and `..`).' };
const error = { $ref: '#/components/schemas/Error' };
// 401 and 403 can answer every client route: a missing client token, another site, another host.
const errors = (...statuses: number[]) =>
  Object.fromEntries(
    [...statuses, 401, 403].map((status) => [
      String(status),
      {
        description: ERROR_TEXT[status] ?? 'error',
        content: { 'application/json': { schema: error } },
      },
    ]),
  );
const ERROR_TEXT: Record<number, string> = {
  400: 'missing or malformed field, key or encoding',
  401: 'the node has a client token and the request did not carry it',
  403: 'a browser request from another site (cross_site_request) or under an unknown host name (bad_host)',
  404: 'nobody has the key',
  409: 'a conditional write lost; `current` is the key version',
  413: 'value over --max-value-bytes',
  414: 'key over --max-key-bytes',
  415: 'not a form (urlencoded or multipart)',
  503: "node not ready, the masters did not acknowledge, a read not settled (retry), or this node's clock too far ahead to write",
  507: 'no room on the data dir of this node or of a master (`full` names it)',
};
const rawValue = {
  description: 'The raw value with its content type; its version in x-diststore-version.',
  headers: { 'x-diststore-version': { schema: { type: 'string' } } },
  content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
};
const writeAnswer = {
  description: 'Stored; which masters hold it',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/WriteResult' } } },
};
const writeForm = (withConditions: boolean) => {
  const properties: Record<string, unknown> = {
    key: { type: 'string' },
    value: { type: 'string', description: 'text, or a file part (its bytes and type are kept)' },
    ttl: { type: 'integer', minimum: 1, description: 'seconds until the entry is gone everywhere' },
  };
  if (withConditions) {
    properties.ifVersion = {
      type: 'string',
      description: 'write only if the key is at this version',
    };
    properties.ifAbsent = {
      type: 'string',
      enum: ['1'],
      description: 'write only if the key does not exist',
    };
  }
  const schema = { type: 'object', required: ['key', 'value'], properties };
  return {
    required: true,
    content: {
      'application/x-www-form-urlencoded': { schema },
      'multipart/form-data': { schema },
    },
  };
};
const text = (description: string) => ({
  description,
  content: { 'text/plain': { schema: { type: 'string' } } },
});
const json = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
});

/** The document; `servers` is left to the client (every node serves the same API). */
export const openApiDocument = {
  openapi: '3.0.3',
  info: {
    title: 'diststore',
    version: '0.1.0',
    description:
      'Multicast-assisted, asymmetric key/value cache cluster. Every node serves this API.',
  },
  paths: {
    '/post': {
      post: {
        summary: 'Store a value here and on both masters',
        requestBody: writeForm(true),
        responses: { 200: writeAnswer, ...errors(400, 409, 413, 414, 415, 503, 507) },
      },
    },
    '/post-local': {
      post: {
        summary: 'Store a value on this node only',
        requestBody: writeForm(false),
        responses: { 200: writeAnswer, ...errors(400, 413, 414, 415, 503, 507) },
      },
    },
    '/get/{key}': {
      get: {
        summary: 'Read a value: the local copy, else from the cluster',
        parameters: [key],
        responses: { 200: rawValue, ...errors(400, 404, 414, 503) },
      },
    },
    '/get': {
      get: {
        summary: 'Read a value (key as ?key=)',
        parameters: [keyQuery],
        responses: { 200: rawValue, ...errors(400, 404, 414, 503) },
      },
    },
    '/get-local/{key}': {
      get: {
        summary: 'Read the local copy only',
        parameters: [key],
        responses: { 200: rawValue, ...errors(400, 404, 414) },
      },
    },
    '/get-local': {
      get: {
        summary: 'Read the local copy only (key as ?key=)',
        parameters: [keyQuery],
        responses: { 200: rawValue, ...errors(400, 404, 414) },
      },
    },
    '/keys': {
      get: {
        summary: "This node's keys",
        parameters: [{ name: 'format', in: 'query', schema: { type: 'string', enum: ['json'] } }],
        responses: { 200: text('one key per line (a JSON array with format=json)') },
      },
      delete: {
        summary: 'Delete a key (key as ?key=)',
        parameters: [keyQuery],
        responses: { 200: writeAnswer, ...errors(400, 414, 503, 507) },
      },
    },
    '/keys/{key}': {
      delete: {
        summary: 'Delete a key everywhere',
        parameters: [key],
        responses: { 200: writeAnswer, ...errors(400, 414, 503, 507) },
      },
    },
    '/delete': {
      post: {
        summary: 'Delete a key (form field key)',
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                required: ['key'],
                properties: { key: { type: 'string' } },
              },
            },
          },
        },
        responses: { 200: writeAnswer, ...errors(400, 414, 415, 503, 507) },
      },
    },
    '/status': {
      get: {
        summary: 'This node and the cluster as it sees them',
        responses: { 200: json('node, masters, members, store') },
      },
    },
    '/health': {
      get: { summary: 'Liveness', security: [], responses: { 200: json('the process answers') } },
    },
    '/ready': {
      get: {
        summary: 'Readiness: joined and synced',
        security: [],
        responses: { 200: json('ready'), 503: json('joining, syncing or stopping') },
      },
    },
    '/metrics': {
      get: { summary: 'Prometheus metrics', responses: { 200: text('Prometheus text format') } },
    },
    '/{key}': {
      post: {
        summary: 'Original diststore: store the raw body as the value',
        parameters: [key],
        requestBody: { content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
        responses: { 200: writeAnswer, ...errors(400, 413, 414, 503, 507) },
      },
    },
    '/local/{key}': {
      post: {
        summary: 'Original diststore: store the raw body on this node only',
        parameters: [key],
        requestBody: { content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
        responses: { 200: writeAnswer, ...errors(400, 413, 414, 503, 507) },
      },
    },
    '/getlocal/{key}': {
      get: {
        summary: 'Original diststore: the local copy only',
        parameters: [key],
        responses: { 200: rawValue, ...errors(400, 404, 414) },
      },
    },
    '/list': {
      get: {
        summary: "Original diststore: this node's keys",
        responses: { 200: text('one key per line') },
      },
    },
  },
  // Only when the node has a client token (--client-token); /health and /ready never need it.
  security: [{ clientToken: [] }, {}],
  components: {
    securitySchemes: {
      clientToken: { type: 'http', scheme: 'bearer', description: '--client-token of the node' },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error', 'code'],
        properties: {
          error: { type: 'string' },
          code: { type: 'string' },
          current: { type: 'string', nullable: true },
        },
      },
      WriteResult: {
        type: 'object',
        required: ['key', 'version', 'masters', 'lost'],
        properties: {
          key: { type: 'string' },
          version: { type: 'string', description: 'wall ms.counter.node id' },
          masters: {
            type: 'array',
            items: { type: 'string' },
            description: 'masters that hold it',
          },
          lost: {
            type: 'array',
            items: { type: 'string' },
            description: 'masters found dead while writing',
          },
          deleted: { type: 'boolean' },
        },
      },
    },
  },
};
