/**
 * Compares one of the SDK's schema nodes (src/schema.ts, from which the client's types are derived)
 * with the JSON Schema the relay's OpenAPI document gives for the same thing (zod 4's output:
 * `anyOf [x, {type: null}]` or `type: [x, "null"]` for nullable, `const` for literals, objects with
 * `properties` and `required`, records as objects without properties).
 *
 * Strict (today's routes): same fields, same required-ness, same types, nullability and enum values.
 * Contract mode (routes coded to tools/SUDO_CONTRACT.md): what the client names must agree with the
 * document, and where the client is only less precise (an open object, a plain string for an enum,
 * an optional response field) it is a note, not a failure.
 */
import type { Node } from '../../src/schema.js';

export type Json = any;

interface Norm {
  kind: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | 'record' | 'any' | 'union';
  nullable: boolean;
  values?: string[];
  items?: Json;
  props?: Record<string, Json>;
  required?: Set<string>;
}

function normalize(s: Json): Norm {
  if (!s || typeof s !== 'object' || Object.keys(s).length === 0) return { kind: 'any', nullable: true };
  if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) {
    const members: Json[] = s.anyOf ?? s.oneOf;
    const nonNull = members.filter((m) => m?.type !== 'null');
    const nullable = nonNull.length < members.length;
    if (nonNull.length === 1) {
      const inner = normalize(nonNull[0]);
      return { ...inner, nullable: inner.nullable || nullable };
    }
    const consts = nonNull.map((m) => m.const ?? (m.enum?.length === 1 ? m.enum[0] : undefined));
    if (consts.every((c) => typeof c === 'string')) return { kind: 'string', nullable, values: consts };
    return { kind: 'union', nullable };
  }
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const nullable = types.includes('null');
  const t = types.find((x) => x !== 'null');
  if (s.const !== undefined) return { kind: typeof s.const === 'string' ? 'string' : 'any', nullable, values: [String(s.const)] };
  if (Array.isArray(s.enum)) {
    const vals = s.enum.filter((v: unknown) => v !== null);
    return { kind: 'string', nullable: nullable || vals.length < s.enum.length, values: vals.map(String) };
  }
  switch (t) {
    case 'string':
    case 'integer':
    case 'number':
    case 'boolean':
      return { kind: t, nullable };
    case 'array':
      return { kind: 'array', nullable, items: s.items };
    case 'object':
      return s.properties && Object.keys(s.properties).length
        ? { kind: 'object', nullable, props: s.properties, required: new Set(s.required ?? []) }
        : { kind: 'record', nullable };
    default:
      return { kind: 'any', nullable: true };
  }
}

export interface Findings {
  errors: string[];
  notes: string[];
}

export interface CompareOptions {
  contract: boolean;
  /** Request fields the SDK fills in (optional for the caller, required by the relay). */
  defaults?: Record<string, unknown>;
  /** A request (the caller writes it) or a response (the relay does). */
  side: 'request' | 'response';
}

export function compare(client: Node, doc: Json, where: string, o: CompareOptions, f: Findings): void {
  const lenient = (msg: string): void => void (o.contract ? f.notes : f.errors).push(`${where}: ${msg}`);
  const fail = (msg: string): void => void f.errors.push(`${where}: ${msg}`);
  if (client.kind === 'json') return; // opaque by design: passed as it is
  const d = normalize(doc);
  if (d.kind === 'any') return lenient(`the document gives no type (the client says ${client.kind})`);
  if (d.kind === 'union') return fail(`the document has a union the client does not model`);
  // Nullability: a client that says "never null" where the relay may send null would lie.
  if (d.nullable && !client.nullable) fail('the document allows null, the client type does not');
  else if (!d.nullable && client.nullable) lenient('the client allows null, the document does not');
  const kind = client.kind === 'record' ? 'record' : client.kind;
  if (kind !== d.kind) {
    if (kind === 'number' && d.kind === 'integer') return lenient('the client says number, the document integer');
    if (kind === 'record' && d.kind === 'object') return lenient('the client types a free-form object, the document lists its fields');
    if (kind === 'object' && client.open && d.kind === 'record') {
      if (Object.keys(client.props ?? {}).length === 0) return;
      return fail('the client names fields of what the document says is a free-form object');
    }
    return fail(`the client says ${kind}, the document ${d.kind}`);
  }
  if (kind === 'string') {
    const cv = client.values ? [...client.values].sort() : null;
    const dv = d.values ? [...d.values].sort() : null;
    if (cv && !dv) return fail(`the client allows only ${cv.join('|')}, the document any string`);
    if (!cv && dv) return lenient(`the document allows only ${dv.join('|')}, the client any string`);
    if (cv && dv && cv.join('|') !== dv.join('|')) {
      const extra = cv.filter((v) => !dv.includes(v));
      if (extra.length || !o.contract) fail(`values differ: client ${cv.join('|')}, document ${dv.join('|')}`);
      else f.notes.push(`${where}: the document has fewer values (${dv.join('|')}) than the client`);
    }
    return;
  }
  if (kind === 'array') return compare(client.items as Node, d.items, `${where}[]`, o, f);
  if (kind !== 'object') return;
  const props = client.props ?? {};
  const docProps = d.props ?? {};
  for (const [key, p] of Object.entries(props)) {
    const at = `${where}.${key}`;
    if (!(key in docProps)) {
      fail(`${key}: the client has it, the document does not`);
      continue;
    }
    const required = d.required?.has(key) ?? false;
    const sdkFills = o.side === 'request' && o.defaults !== undefined && key in o.defaults;
    if (required && p.optional && !sdkFills) {
      if (o.side === 'request') fail(`${key}: required by the document, optional in the client`);
      else lenient(`${key}: always sent by the relay, optional in the client type`);
    }
    if (!required && !p.optional) fail(`${key}: optional in the document, required in the client`);
    compare(p.node, docProps[key], at, o, f);
  }
  const missing = Object.keys(docProps).filter((k) => !(k in props));
  if (missing.length) {
    if (client.open) f.notes.push(`${where}: fields the client types leave untyped: ${missing.join(', ')}`);
    else fail(`the document has fields the client lacks: ${missing.join(', ')}`);
  }
}

/** The query parameters of an operation as one object schema. */
export function queryObject(params: Json[] | undefined): Json {
  const q = (params ?? []).filter((p) => p.in === 'query');
  return {
    type: 'object',
    properties: Object.fromEntries(q.map((p) => [p.name, p.schema])),
    required: q.filter((p) => p.required).map((p) => p.name),
  };
}
