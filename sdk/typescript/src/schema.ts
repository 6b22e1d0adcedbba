/**
 * The wire shapes of the relay's routes and callbacks, declared once as small runtime schemas.
 *
 * One declaration gives three things: the TypeScript types of the client's methods and callback
 * events (camelCase, derived at the type level), the exact conversion between those camelCase
 * objects and the relay's snake_case JSON (only declared fields are renamed, so opaque values such
 * as WebAuthn JSON pass untouched), and what the SDK's test compares with the relay's OpenAPI
 * document, so the client's types cannot drift from what the relay validates.
 */

export type Kind = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | 'record' | 'json';

/** A schema node; `T` is the camelCase TypeScript type it stands for (phantom). */
export interface Node<T = unknown> {
  readonly kind: Kind;
  readonly nullable?: boolean;
  /** Allowed values of a string. */
  readonly values?: readonly string[];
  readonly items?: Node;
  readonly props?: Readonly<Record<string, Prop>>;
  /** Sent and returned exactly as given: no key is renamed below this node. */
  readonly verbatim?: boolean;
  /**
   * An object that needs `anyOf` (at least one) or `oneOf` (exactly one) of these fields, given and
   * not null: the document's `anyOf` / `oneOf` of `{required: [field]}`; its type is the union of the
   * alternatives, and `toWire` refuses an argument that is none of them.
   */
  readonly requires?: Requires;
  /** The document's `if` / `then` / `else` on one field's value; its type is the union of both branches. */
  readonly when?: When;
  readonly __type?: T;
}

/** When `field` is `value`, the fields `requires` must be given; otherwise, the fields `forbids` must not be. */
export interface When {
  readonly field: string;
  readonly value: string;
  readonly requires: readonly string[];
  readonly forbids: readonly string[];
}

export interface Requires {
  readonly mode: 'anyOf' | 'oneOf';
  readonly fields: readonly string[];
}

export interface Prop {
  readonly node: Node;
  readonly optional: boolean;
}

/** An optional field of an object (`user_email?`). */
export interface Optional<T> {
  readonly optional: true;
  readonly node: Node<T>;
}

type Field = Node | Optional<unknown>;
type ValueOf<F> = F extends Optional<infer T> ? T : F extends Node<infer T> ? T : never;
type OptionalKeys<P> = { [K in keyof P]: P[K] extends Optional<unknown> ? K : never }[keyof P];
type RequiredKeys<P> = Exclude<keyof P, OptionalKeys<P>>;

/** `relay_user_linked_id` → `relayUserLinkedId`, at the type level. */
export type CamelCase<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

export type ObjectOf<P> = Simplify<
  { [K in RequiredKeys<P> & string as CamelCase<K>]: ValueOf<P[K]> } & { [K in OptionalKeys<P> & string as CamelCase<K>]?: ValueOf<P[K]> }
>;

/** `T` with `K` given and not null. */
type Given<T, K extends keyof T> = Simplify<Omit<T, K> & { [Q in K]-?: NonNullable<T[Q]> }>;
/** At least one of `K` given: `{a: string} | {b: string}`, each with the other fields of `T`. */
export type AtLeastOne<T, K extends keyof T> = { [Q in K]: Given<T, Q> }[K];
/** Exactly one of `K` given, the others absent: `{a: string; b?: never} | {b: string; a?: never}`. */
export type ExactlyOne<T, K extends keyof T> = {
  [Q in K]: Simplify<Omit<Given<T, Q>, Exclude<K, Q>> & { [R in Exclude<K, Q>]?: never }>;
}[K];

/** `T` where field `F` being `V` needs `Req`, and any other value of `F` excludes `Forb`. */
export type Switch<T, F extends keyof T, V, Req extends keyof T, Forb extends keyof T> =
  | Simplify<Omit<T, F | Req> & { [K in F]-?: V & T[F] } & { [K in Req]-?: NonNullable<T[K]> }>
  | Simplify<Omit<T, F | Forb> & { [K in F]: Exclude<T[F], V> } & { [K in Forb]?: never }>;

/** The TypeScript type a node stands for. */
export type Infer<N> = N extends Node<infer T> ? T : never;

/** `relay_user_linked_id` → `relayUserLinkedId`. */
export const camelCase = (key: string): string => key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

const node = <T>(n: Omit<Node<T>, '__type'>): Node<T> => n as Node<T>;

function fields(props: Record<string, Field>): Record<string, Prop> {
  return Object.fromEntries(
    Object.entries(props).map(([k, f]) => [k, 'kind' in f ? { node: f, optional: false } : { node: f.node, optional: true }]),
  );
}

export const s = {
  string: () => node<string>({ kind: 'string' }),
  enum: <const E extends readonly [string, ...string[]]>(values: E) => node<E[number]>({ kind: 'string', values }),
  literal: <const L extends string>(value: L) => node<L>({ kind: 'string', values: [value] }),
  int: () => node<number>({ kind: 'integer' }),
  number: () => node<number>({ kind: 'number' }),
  boolean: () => node<boolean>({ kind: 'boolean' }),
  array: <T>(items: Node<T>) => node<T[]>({ kind: 'array', items }),
  object: <P extends Record<string, Field>>(props: P) => node<ObjectOf<P>>({ kind: 'object', props: fields(props) }),
  /** An object that needs at least one of `keys` (not null), e.g. an email or a phone number. */
  atLeastOne: <P extends Record<string, Field>, const K extends readonly [keyof P & string, ...(keyof P & string)[]]>(props: P, keys: K) =>
    node<AtLeastOne<ObjectOf<P>, CamelCase<K[number]> & keyof ObjectOf<P>>>({
      kind: 'object',
      props: fields(props),
      requires: { mode: 'anyOf', fields: keys },
    }),
  /** An object that needs exactly one of `keys` (not null), e.g. an id or an email. */
  exactlyOne: <P extends Record<string, Field>, const K extends readonly [keyof P & string, ...(keyof P & string)[]]>(props: P, keys: K) =>
    node<ExactlyOne<ObjectOf<P>, CamelCase<K[number]> & keyof ObjectOf<P>>>({
      kind: 'object',
      props: fields(props),
      requires: { mode: 'oneOf', fields: keys },
    }),
  /** An object where one field's value decides which other fields are needed or excluded. */
  switch: <
    P extends Record<string, Field>,
    const F extends keyof P & string,
    const V extends string,
    const Req extends readonly (keyof P & string)[],
    const Forb extends readonly (keyof P & string)[],
  >(
    props: P,
    rule: { field: F; value: V; requires: Req; forbids: Forb },
  ) => {
    type T = ObjectOf<P>;
    type K<X extends string> = CamelCase<X> & keyof T;
    return node<Switch<T, K<F>, V, K<Req[number]>, K<Forb[number]>>>({ kind: 'object', props: fields(props), when: rule });
  },
  /** A free-form object of the relay's own (snake_case keys, renamed to camelCase on the way in). */
  record: () => node<Record<string, unknown>>({ kind: 'record' }),
  /** Opaque JSON passed exactly as it is, both ways (e.g. WebAuthn options for the browser). */
  json: () => node<Record<string, unknown>>({ kind: 'json', verbatim: true }),
  /** Opaque JSON of a given TypeScript type (not generic by default: a call's context would infer `unknown`). */
  jsonOf: <T>() => node<T>({ kind: 'json', verbatim: true }),
  /** The same node, sent and returned exactly as given (its keys are already what the relay wants). */
  verbatim: <T>(n: Node<T>) => node<T>({ ...n, verbatim: true }),
  nullable: <T>(n: Node<T>) => node<T | null>({ ...n, nullable: true }),
  optional: <T>(n: Node<T>): Optional<T> => ({ optional: true, node: n }),
};

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Renames every key of a free-form value to camelCase (undeclared fields, `record` nodes). */
export function camelDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelDeep);
  if (!isPlainObject(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [camelCase(k), camelDeep(x)]));
}

/** Renames every key of a free-form value to snake_case (the inverse of camelDeep for the relay's keys). */
export function snakeDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeDeep);
  if (!isPlainObject(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeDeep(x)]));
}

/**
 * A camelCase value → the relay's JSON. Declared fields only: an unknown argument is a TypeError
 * naming it (the relay's schemas are strict, and a typo must not be dropped silently); `undefined`
 * fields are left out, `null` is sent as null.
 */
export function toWire(n: Node, v: unknown, where: string): unknown {
  if (v === undefined || v === null || n.verbatim) return v;
  if (n.kind === 'array' && Array.isArray(v) && n.items) return v.map((x, i) => toWire(n.items as Node, x, `${where}[${i}]`));
  if (n.kind !== 'object' || !n.props || !isPlainObject(v)) return v;
  const byCamel = new Map(Object.entries(n.props).map(([k, p]) => [camelCase(k), [k, p] as const]));
  if (n.requires) checkRequires(n.requires, v, where);
  if (n.when) checkWhen(n.when, v, where);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(v)) {
    const hit = byCamel.get(key);
    if (!hit) throw new TypeError(`${where}: unknown argument "${key}" (expected one of ${[...byCamel.keys()].join(', ')})`);
    if (value !== undefined) out[hit[0]] = toWire(hit[1].node, value, `${where}.${key}`);
  }
  return out;
}

/** An argument that is none of the alternatives is a TypeError naming them (the types say it too). */
function checkRequires(r: Requires, v: Record<string, unknown>, where: string): void {
  const names = r.fields.map(camelCase);
  const given = names.filter((k) => v[k] !== undefined && v[k] !== null).length;
  if (r.mode === 'anyOf' && given === 0) throw new TypeError(`${where}: give at least one of ${names.join(' / ')}`);
  if (r.mode === 'oneOf' && given !== 1) throw new TypeError(`${where}: give exactly one of ${names.join(' / ')}`);
}

function checkWhen(w: When, v: Record<string, unknown>, where: string): void {
  const given = (k: string) => v[camelCase(k)] !== undefined && v[camelCase(k)] !== null;
  const field = camelCase(w.field);
  if (v[field] === w.value) {
    const missing = w.requires.filter((k) => !given(k)).map(camelCase);
    if (missing.length) throw new TypeError(`${where}: ${field} ${w.value} needs ${missing.join(', ')}`);
  } else {
    const extra = w.forbids.filter(given).map(camelCase);
    if (extra.length) throw new TypeError(`${where}: ${extra.join(', ')} only with ${field} ${w.value}`);
  }
}

/** The relay's JSON → camelCase: declared fields by their schema, other fields renamed deeply. */
export function fromWire(n: Node, v: unknown): unknown {
  if (v === undefined || v === null || n.verbatim) return v;
  if (n.kind === 'record') return camelDeep(v);
  if (n.kind === 'array' && Array.isArray(v) && n.items) return v.map((x) => fromWire(n.items as Node, x));
  if (n.kind !== 'object' || !n.props || !isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(v)) {
    const p = n.props[key];
    out[camelCase(key)] = p ? fromWire(p.node, value) : camelDeep(value);
  }
  return out;
}
