/**
 * Compares one of the SDK's schema nodes (src/schema.ts, from which the client's types are derived)
 * with the JSON Schema the relay's OpenAPI document gives for the same thing (zod 4's output:
 * `anyOf [x, {type: null}]` or `type: [x, "null"]` for nullable, `const` for literals, objects with
 * `properties` and `required`, records as objects without properties, `anyOf` / `oneOf` of
 * `{required: [field]}` for "at least / exactly one of these fields", `if` / `then` / `else` on one
 * field's value, `not: {}` for a field that must never be sent). Any other constraint keyword is a
 * union the client does not model, never silently passed.
 *
 * Exact: same fields, same required-ness, same types, nullability and enum values, the same
 * either-of constraints.
 */
import type { Node } from '../../src/schema.js';

export type Json = any;

interface Requires {
  mode: 'anyOf' | 'oneOf';
  /** The field each alternative requires, and the schema it gives that field (if any). */
  members: { field: string; schema: Json }[];
}

interface When {
  field: string;
  value: string;
  requires: string[];
  forbids: string[];
}

interface Norm {
  kind: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | 'record' | 'any' | 'union' | 'never';
  nullable: boolean;
  values?: string[];
  items?: Json;
  props?: Record<string, Json>;
  required?: Set<string>;
  requires?: Requires;
  when?: When;
  /** Rules between fields that the document states and the client's types do not carry (see untypedRules). */
  rules?: string[];
}

/**
 * Rules between fields a TypeScript type would only carry as a large union: at most one of several
 * fields (`not: {required: [a, b]}`), several `if`/`then` rules at once (`allOf`), and bounds that
 * depend on another field (`anyOf` of `properties`-only branches, e.g. a threshold ≤ the members
 * given). The client sends what it is given and the relay answers 422 naming the rule; the
 * comparison lists each such rule (Findings.untyped) so that the test names every one it accepts.
 */
function untypedRules(s: Json): { base: Json; rules: string[] } | undefined {
  if (s?.type !== 'object' || !s.properties) return undefined;
  const rules: string[] = [];
  const base = { ...s };
  const onlyRequired = (m: Json) => m && Object.keys(m).length === 1 && Array.isArray(m.required) && m.required.length > 1;
  if (s.not && onlyRequired(s.not)) {
    rules.push(`at most one of ${[...s.not.required].sort().join('|')}`);
    delete base.not;
  }
  if (Array.isArray(s.allOf)) {
    rules.push(`${s.allOf.length} rules between fields (allOf)`);
    delete base.allOf;
  }
  const branches: Json[] | undefined = s.anyOf;
  if (branches?.length && branches.every((m) => m && Object.keys(m).length === 1 && m.properties)) {
    const fields = [...new Set(branches.flatMap((m) => Object.keys(m.properties)))].sort();
    rules.push(`bounds between ${fields.join('|')} (${branches.length} alternatives)`);
    delete base.anyOf;
  }
  return rules.length ? { base, rules } : undefined;
}

/** `anyOf` / `oneOf` of `{required: [one field], properties?}` on an object: which fields it needs. */
function requiresOf(s: Json): Requires | 'union' | undefined {
  const mode = Array.isArray(s.anyOf) ? 'anyOf' : Array.isArray(s.oneOf) ? 'oneOf' : undefined;
  if (!mode) return undefined;
  const members: Requires['members'] = [];
  for (const m of s[mode] as Json[]) {
    const extra = Object.keys(m ?? {}).filter((k) => k !== 'required' && k !== 'properties');
    if (extra.length || !Array.isArray(m.required) || m.required.length !== 1) return 'union';
    const field = String(m.required[0]);
    members.push({ field, schema: m.properties?.[field] });
  }
  return { mode, members };
}

const single = (m: Json): string | undefined =>
  m && Object.keys(m).length === 1 && Array.isArray(m.required) && m.required.length === 1 ? String(m.required[0]) : undefined;

/**
 * `if: {properties: {F: {const: V}}, required: [F]}, then: {required: […]}, else: {not: {anyOf: [{required: [x]}…]}}`:
 * when F is V these fields are needed, otherwise those are excluded.
 */
function whenOf(s: Json): When | 'union' {
  const field = Object.keys(s.if?.properties ?? {})[0];
  const value = field === undefined ? undefined : s.if.properties[field]?.const;
  const ifOk = field !== undefined && Object.keys(s.if.properties).length === 1 && typeof value === 'string';
  const requires = Object.keys(s.then ?? {}).length === 1 && Array.isArray(s.then.required) ? s.then.required.map(String) : undefined;
  const not = s.else && Object.keys(s.else).length === 1 ? s.else.not : undefined;
  const alternatives: Json[] | undefined = not?.anyOf ?? (not ? [not] : undefined);
  const forbids = alternatives?.map(single);
  if (!ifOk || !requires || !forbids || forbids.some((x) => x === undefined)) return 'union';
  return { field, value, requires, forbids: forbids as string[] };
}

function normalize(s: Json): Norm {
  const untyped = untypedRules(s);
  if (untyped) {
    const inner = normalize(untyped.base);
    return { ...inner, rules: [...(inner.rules ?? []), ...untyped.rules] };
  }
  if (s === false || (s && typeof s === 'object' && s.not && Object.keys(s.not).length === 0)) return { kind: 'never', nullable: false };
  if (!s || typeof s !== 'object' || Object.keys(s).length === 0) return { kind: 'any', nullable: true };
  // Keywords of the document the comparison does not know would pass unseen: a constraint the client may not model.
  const unknown = ['allOf', 'not', 'dependentRequired', 'dependentSchemas', 'minProperties', 'maxProperties', 'patternProperties'].filter(
    (k) => k in s,
  );
  if (unknown.length) return { kind: 'union', nullable: false };
  if (s.type === 'object' && s.properties && s.if) {
    const when = whenOf(s);
    if (when === 'union') return { kind: 'union', nullable: false };
    const { if: _i, then: _t, else: _e, ...base } = s;
    return { ...normalize(base), when };
  }
  if (s.type === 'object' && s.properties && (s.anyOf || s.oneOf)) {
    const requires = requiresOf(s);
    if (requires === 'union') return { kind: 'union', nullable: false };
    const { anyOf: _a, oneOf: _o, ...base } = s;
    return { ...normalize(base), requires };
  }
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
  if (s.const !== undefined) {
    const kind = typeof s.const === 'string' ? 'string' : typeof s.const === 'boolean' ? 'boolean' : 'any';
    return { kind, nullable, values: [String(s.const)] };
  }
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
  /** `where: rule` for each rule between fields the document states and the client's types do not carry. */
  untyped?: string[];
}

export interface CompareOptions {
  /** Request fields the SDK fills in (optional for the caller, required by the relay). */
  defaults?: Record<string, unknown>;
  /** A request (the caller writes it) or a response (the relay does). */
  side: 'request' | 'response';
}

const oneOfWords = (r: { mode: 'anyOf' | 'oneOf'; fields: readonly string[] }) =>
  `${r.mode === 'anyOf' ? 'at least' : 'exactly'} one of ${[...r.fields].sort().join('|')}`;

function compareRequires(client: Node, d: Norm, where: string, o: CompareOptions, f: Findings): void {
  const fail = (msg: string): void => void f.errors.push(`${where}: ${msg}`);
  const dr = d.requires && { mode: d.requires.mode, fields: d.requires.members.map((m) => m.field) };
  const cr = client.requires;
  if (!dr && !cr) return;
  if (dr && !cr) return fail(`the document needs ${oneOfWords(dr)}, the client does not model it`);
  if (cr && !dr) return fail(`the client needs ${oneOfWords(cr)}, the document does not`);
  if (!dr || !cr) return;
  if (oneOfWords(dr) !== oneOfWords(cr)) return fail(`the document needs ${oneOfWords(dr)}, the client ${oneOfWords(cr)}`);
  // What an alternative says of its field (e.g. "a string, not null") must be what the client's says.
  for (const m of d.requires?.members ?? []) {
    const p = client.props?.[m.field];
    // An alternative that only bounds its field (e.g. `minItems: 1`) adds no type: the field's own schema has it.
    const typed = m.schema && ['type', 'anyOf', 'oneOf', 'const', 'enum'].some((k) => k in m.schema);
    if (p && typed) compare({ ...p.node, nullable: false }, m.schema, `${where}.${m.field} (when given)`, o, f);
  }
}

export function compare(client: Node, doc: Json, where: string, o: CompareOptions, f: Findings): void {
  const fail = (msg: string): void => void f.errors.push(`${where}: ${msg}`);
  if (client.kind === 'json') return; // opaque by design: passed as it is
  const d = normalize(doc);
  if (d.kind === 'any') return fail(`the document gives no type (the client says ${client.kind})`);
  if (d.kind === 'union') return fail(`the document has a union the client does not model`);
  if (d.kind === 'never') return fail('the document forbids this field, the client has it');
  for (const rule of d.rules ?? []) (f.untyped ??= []).push(`${where}: ${rule}`);
  // Nullability: a client that says "never null" where the relay may send null would lie.
  if (d.nullable && !client.nullable) fail('the document allows null, the client type does not');
  else if (!d.nullable && client.nullable) fail('the client allows null, the document does not');
  const kind = client.kind;
  if (kind !== d.kind) return fail(`the client says ${kind}, the document ${d.kind}`);
  if (kind === 'string') {
    const cv = client.values ? [...client.values].sort() : null;
    const dv = d.values ? [...d.values].sort() : null;
    if (cv && !dv) return fail(`the client allows only ${cv.join('|')}, the document any string`);
    if (!cv && dv) return fail(`the document allows only ${dv.join('|')}, the client any string`);
    if (cv && dv && cv.join('|') !== dv.join('|')) fail(`values differ: client ${cv.join('|')}, document ${dv.join('|')}`);
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
      fail(
        o.side === 'request'
          ? `${key}: required by the document, optional in the client`
          : `${key}: always sent by the relay, optional in the client type`,
      );
    }
    if (!required && !p.optional) fail(`${key}: optional in the document, required in the client`);
    compare(p.node, docProps[key], at, o, f);
  }
  // A field the document forbids (`not: {}`: "never send it") is one the client must not have.
  const missing = Object.keys(docProps).filter((k) => !(k in props) && normalize(docProps[k]).kind !== 'never');
  if (missing.length) fail(`the document has fields the client lacks: ${missing.join(', ')}`);
  compareRequires(client, d, where, o, f);
  compareWhen(client, d, where, f);
}

function compareWhen(client: Node, d: Norm, where: string, f: Findings): void {
  const words = (w: { field: string; value: string; requires: readonly string[]; forbids: readonly string[] }) =>
    `${w.field} ${w.value} needs ${[...w.requires].sort().join('|')}, otherwise excludes ${[...w.forbids].sort().join('|')}`;
  const dw = d.when;
  const cw = client.when;
  if (dw && !cw) f.errors.push(`${where}: the document says ${words(dw)}; the client does not model it`);
  else if (cw && !dw) f.errors.push(`${where}: the client says ${words(cw)}; the document does not`);
  else if (cw && dw && words(cw) !== words(dw)) f.errors.push(`${where}: the document says ${words(dw)}; the client ${words(cw)}`);
}

/** The query parameters of an operation as one object schema. */
export function queryObject(params: Json[] | undefined): Json {
  const q = (params ?? []).filter((p) => p.in === 'query');
  // One form-exploded object parameter (`?a=…&b=…`): the document's way to state a rule between query
  // parameters. Its properties are the parameters.
  const exploded = q.length === 1 && q[0].style === 'form' && q[0].explode !== false && q[0].schema?.type === 'object';
  if (exploded) return q[0].schema;
  return {
    type: 'object',
    properties: Object.fromEntries(q.map((p) => [p.name, p.schema])),
    required: q.filter((p) => p.required).map((p) => p.name),
  };
}
