/**
 * What one client method is: the relay route it calls, its wire schemas (from which its argument
 * and result types are derived), and whether it may be sent twice. The method tables (auth.ts,
 * chat.ts, sudo.ts) are checked against the relay's OpenAPI document by the SDK's tests.
 */
import type { CamelCase, Infer, Node } from '../schema.js';

export interface RouteSpec {
  method: 'GET' | 'POST';
  /** Path under /api/v1. */
  path: string;
  /** The success status the relay's document declares for the route. */
  status: number;
  body?: Node;
  query?: Node;
  /** Arguments of the method that are not sent as they are (e.g. a header, or parts of `display`). */
  extra?: Node;
  /** Wire fields the SDK fills in when they are not given (so the method's argument is optional). */
  defaults?: Record<string, unknown>;
  /** Schema of the envelope's `data`. */
  response: Node;
  /** Safe to send twice: retried on 429/503 and connection errors (GETs always are). */
  idempotent?: boolean | ((input: Record<string, unknown>) => boolean);
  /** Turns the camelCase arguments into the ones sent, and headers (runs before the wire conversion). */
  prepare?: (input: Record<string, unknown>) => { input: Record<string, unknown>; headers?: Record<string, string> };
}

export const route = <const R extends RouteSpec>(r: R): R => r;

type Part<R, K extends string> = R extends { [P in K]: infer N } ? Infer<N> : unknown;
type CamelKeys<D> = { [K in keyof D & string as CamelCase<K>]: D[K] };
type WithDefaults<T, R> = R extends { defaults: infer D }
  ? Omit<T, keyof CamelKeys<D>> & Partial<Pick<T, keyof CamelKeys<D> & keyof T>>
  : T;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** A method's argument: body and query fields (camelCase) and its extra arguments. */
export type InputOf<R extends RouteSpec> = Simplify<WithDefaults<Part<R, 'body'> & Part<R, 'query'> & Part<R, 'extra'>, R>>;
/** A method's result: the envelope's `data` (camelCase). */
export type OutputOf<R extends RouteSpec> = Infer<R['response']>;
