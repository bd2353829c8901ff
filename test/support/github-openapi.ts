// Checks a request against GitHub's published OpenAPI description (@octokit/openapi): the
// method and path must name an operation, and its path parameters, query parameters and JSON
// body must satisfy that operation's schemas. The parsed description is cached per process.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

type Json = Record<string, any>;

interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  names: string[];
  operationId: string;
  pointer: string;
  op: Json;
}

export interface MatchedOperation {
  operationId: string;
  template: string;
  params: Record<string, string>;
}

export interface CheckResult {
  operation: MatchedOperation | null;
  /** Empty when the request is one the real API accepts. */
  errors: string[];
}

const SPEC_ID = 'https://api.github.com/openapi.json';
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

let cached: { spec: Json; ops: Operation[]; ajv: Ajv; coercing: Ajv; compiled: Map<string, ValidateFunction> } | null = null;

function specPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@octokit/openapi/package.json');
  return join(dirname(pkg), 'generated', 'api.github.com.json');
}

function escapePointer(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

function load() {
  if (cached) return cached;
  const spec = JSON.parse(readFileSync(specPath(), 'utf8')) as Json;
  const ops: Operation[] = [];
  for (const [template, item] of Object.entries(spec.paths as Json)) {
    const names: string[] = [];
    const regex = new RegExp(
      '^' +
        template.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, name: string) => {
          names.push(name);
          return '([^/]+)';
        }) +
        '$',
    );
    for (const [method, op] of Object.entries(item as Json)) {
      if (!['get', 'post', 'patch', 'put', 'delete'].includes(method)) continue;
      ops.push({
        method: method.toUpperCase(),
        template,
        regex,
        names,
        operationId: (op as Json).operationId,
        pointer: `#/paths/${escapePointer(template)}/${method}`,
        op: op as Json,
      });
    }
  }
  // Literal segments beat parameters: /repos/{o}/{r}/issues/comments before /repos/{o}/{r}/issues/{n}.
  ops.sort((a, b) => a.names.length - b.names.length);
  const make = (coerceTypes: boolean) => {
    const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes, validateSchema: false, discriminator: false });
    addFormats(ajv);
    ajv.addSchema(spec, SPEC_ID, undefined, false);
    return ajv;
  };
  cached = { spec, ops, ajv: make(false), coercing: make(true), compiled: new Map() };
  return cached;
}

function deref(spec: Json, node: Json): Json {
  let n = node;
  while (n && typeof n.$ref === 'string') {
    n = n.$ref
      .slice(2)
      .split('/')
      .map((p: string) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((acc: Json, key: string) => acc[key], spec);
  }
  return n;
}

function compile(ajv: Ajv, key: string, schema: Json, compiled: Map<string, ValidateFunction>): ValidateFunction {
  let fn = compiled.get(key);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(key, fn);
  }
  return fn;
}

function describe(fn: ValidateFunction): string {
  return (fn.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ');
}

/** Validates one request. `path` excludes the query string; `query` holds its decoded values. */
export function checkRequest(method: string, path: string, query: URLSearchParams, body: unknown): CheckResult {
  const { spec, ops, ajv, coercing, compiled } = load();
  const candidates = ops.filter((o) => o.regex.test(path));
  const match = candidates.find((o) => o.method === method.toUpperCase());
  if (!match) {
    return { operation: null, errors: [candidates.length ? `${method} is not allowed on ${path}` : `no operation matches ${method} ${path}`] };
  }
  const values = match.regex.exec(path)!.slice(1).map(decodeURIComponent);
  const params: Record<string, string> = Object.fromEntries(match.names.map((n, i) => [n, values[i]]));
  const operation: MatchedOperation = { operationId: match.operationId, template: match.template, params };
  const errors: string[] = [];
  const declared = ((match.op.parameters ?? []) as Json[]).map((p) => deref(spec, p));
  for (const p of declared) {
    const raw = p.in === 'path' ? params[p.name] : p.in === 'query' ? query.get(p.name) : undefined;
    if (p.in !== 'path' && p.in !== 'query') continue;
    if (raw === undefined || raw === null) {
      if (p.required) errors.push(`missing ${p.in} parameter ${p.name}`);
      continue;
    }
    const fn = compile(coercing, `${match.pointer}:${p.in}:${p.name}`, { type: 'object', properties: { v: p.schema ?? {} } }, compiled);
    if (!fn({ v: raw })) errors.push(`${p.in} parameter ${p.name}=${raw}: ${describe(fn)}`);
  }
  for (const name of query.keys()) {
    if (!declared.some((p) => p.in === 'query' && p.name === name)) errors.push(`unknown query parameter ${name}`);
  }
  const requestBody = match.op.requestBody ? deref(spec, match.op.requestBody) : null;
  if (requestBody) {
    const media = requestBody.content?.['application/json'];
    if (body === undefined) {
      if (requestBody.required) errors.push('missing JSON body');
    } else if (media?.schema) {
      const fn = compile(ajv, `${match.pointer}:body`, { $ref: `${SPEC_ID}${match.pointer}/requestBody/content/application~1json/schema` }, compiled);
      if (!fn(body)) errors.push(`body: ${describe(fn)}`);
    }
  } else if (body !== undefined && method.toUpperCase() !== 'GET') {
    errors.push('a body was sent to an operation that takes none');
  }
  return { operation, errors };
}
