import type {
  OpenAPIObject,
  OperationObject,
  ParameterObject,
  PathItemObject,
  PathsObject,
  RequestBodyObject,
  ResponseObject,
  SchemaObject,
} from '@nestjs/swagger';
import { EndpointDescription, ENDPOINTS, ParamDescription } from './endpoint-descriptions';
import { v1Paths } from './v1-paths';

const ERROR_EXAMPLE = { error: 1, message: 'device_id 260 not found among your devices', code: 'not_found' };

/**
 * The OpenAPI description of the compatible surface. Every method takes the same parameters as a GET
 * query or a POST body (form, multipart or JSON) and answers HTTP 200 with `error` 0 or 1, which
 * Nest's controller scanning cannot express for our merged-parameter routes: it is written here.
 */
export function openApiDocument(version: string): OpenAPIObject {
  const paths: PathsObject = {};
  for (const endpoint of ENDPOINTS) {
    for (const path of endpoint.paths) paths[`/getdata/${path}`] = pathItem(endpoint, path);
  }
  paths['/v1/devices/register'] = {
    post: {
      tags: ['devices'],
      summary: 'Register a phone (see docs/device-protocol.md)',
      requestBody: body([
        { name: 'email', type: 'string', description: 'Login (or `token`)', example: 'me@example.com' },
        { name: 'pass', type: 'string', description: 'Password', example: 'secret' },
        { name: 'title', type: 'string', description: 'Name shown in getalldevices', example: 'Shop phone' },
      ]),
      responses: {
        '201': json('The id and the secret the phone connects with (shown once).', {
          error: 0,
          message: 'OK',
          device_id: 123,
          device_secret: 'q3V…',
        }),
      },
    },
  };
  const idParameter: ParameterObject = {
    name: 'id',
    in: 'path',
    required: true,
    schema: { type: 'integer' },
  };
  paths['/v1/devices/{id}/secret'] = {
    post: {
      tags: ['devices'],
      summary:
        'A new secret for a phone (token): its connected phone is disconnected, the old secret refused',
      parameters: [idParameter],
      security: [{ bearer: [] }],
      responses: {
        '200': json(
          'The new secret (shown once). For an SMSGate app phone, whose token is revoked, no secret: `kind` "smsgate" and `awaiting_registration` true (the app registers again into the same device).',
          {
            error: 0,
            message: 'OK',
            device_id: 123,
            device_secret: 'r8K…',
          },
        ),
        '404': json('Not a device of this account.', { error: 1, code: 'not_found', message: '…' }),
      },
    },
  };
  paths['/v1/devices/{id}'] = {
    delete: {
      tags: ['devices'],
      summary:
        'Remove a phone (token): disconnected, its secret refused, its waiting messages end as 202; its history stays listed',
      parameters: [idParameter],
      security: [{ bearer: [] }],
      responses: {
        '200': json('Removed.', { error: 0, message: 'OK', device_id: 123, messages_finalised: 2 }),
        '404': json('Not a device of this account.', { error: 1, code: 'not_found', message: '…' }),
      },
    },
  };
  for (const [path, item] of Object.entries(v1Paths())) paths[path] = { ...paths[path], ...item };
  return {
    openapi: '3.0.3',
    info: {
      title: 'smsfleet',
      version,
      description:
        'SmsGateway24-compatible HTTP API. Every `/getdata/*` method accepts GET query strings and POST forms (urlencoded, multipart) or JSON, merged (a body field wins). Errors are HTTP 200 with `{"error":1,"message":…,"code":…}`; 503 means retry.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'The token from gettoken' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'smsfleet_session',
          description: 'The dashboard’s session (POST /v1/session); only with `x-csrf-token`',
        },
        csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token', description: 'The session’s CSRF token' },
      },
    },
    paths,
  };
}

/** Ours, beyond the compatible API: a retry with the same key and request is stored once. */
const IDEMPOTENCY_KEY: ParameterObject = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Optional, 1–200 visible ASCII characters, per account. A retry with the same key and the same request answers the first ids and stores nothing more; the same key with a different request: error code `idempotency_conflict`.',
  schema: { type: 'string', example: '3f1c2a9e-order-1842' },
};

function pathItem(endpoint: EndpointDescription, path: string): PathItemObject {
  const operation = (method: string): OperationObject => ({
    tags: ['getdata'],
    operationId: `${path}_${method}`,
    summary: endpoint.summary,
    description: endpoint.description,
    responses: {
      '200': {
        description: 'Success (`error` 0) or a refusal (`error` 1, with `code`).',
        content: {
          'application/json': {
            examples: { success: { value: endpoint.example }, error: { value: ERROR_EXAMPLE } },
          },
        },
      },
      '503': json('A dependency is away; nothing was written: retry.', {
        error: 1,
        message: 'temporarily unavailable, retry',
        code: 'unavailable',
      }),
    },
  });
  const query = endpoint.params.filter((param) => param.type !== 'file');
  const headers = endpoint.idempotent ? [IDEMPOTENCY_KEY] : [];
  return {
    ...(endpoint.postOnly
      ? {}
      : {
          get: {
            ...operation('get'),
            parameters: [
              ...headers,
              ...query.map((param): ParameterObject => ({
                name: param.name,
                in: 'query',
                required: param.required ?? false,
                description: param.description,
                schema: {
                  type: param.type,
                  ...(param.example !== undefined ? { example: param.example } : {}),
                },
              })),
            ],
          },
        }),
    post: { ...operation('post'), parameters: headers, requestBody: body(endpoint.params) },
  };
}

function body(params: ParamDescription[]): RequestBodyObject {
  const schema = (withFiles: boolean): SchemaObject => {
    const list = params.filter((param) => withFiles || param.type !== 'file');
    return {
      type: 'object',
      required: list.filter((param) => param.required).map((param) => param.name),
      properties: Object.fromEntries(
        list.map((param) => [
          param.name,
          param.type === 'file'
            ? { type: 'string', format: 'binary', description: param.description }
            : { type: param.type, description: param.description, example: param.example },
        ]),
      ),
    };
  };
  return {
    content: {
      'application/x-www-form-urlencoded': { schema: schema(false) },
      'multipart/form-data': { schema: schema(true) },
      'application/json': { schema: schema(false) },
    },
  };
}

function json(description: string, example: unknown): ResponseObject {
  return { description, content: { 'application/json': { example } } };
}
