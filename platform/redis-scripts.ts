/**
 * The relay's Redis Lua scripts, one typed wrapper for all of them (after BullMQ's
 * src/classes/scripts.ts). Each script is a file in platform/lua/ whose header says what it reads
 * (KEYS), what it is given (ARGV) and what it returns; the code never holds Lua in a string.
 *
 * `defineScript` names a file and its types once; `run` sends it by EVALSHA and falls back to EVAL
 * when the server has not cached it (ioredis's defineCommand does that, per connection — a restarted
 * Redis forgets its script cache, and a Cluster node has one of its own). The number of keys is given
 * with every call, so one script may take a variable number of keys.
 *
 * The .lua files are read once at start (they ship beside the compiled code: `npm run build` copies
 * platform/lua to dist/platform/lua).
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** What a script's call takes: its keys and its arguments, each a tuple the script's header names. */
export type ScriptArg = string | number;

export type RedisScript<Keys extends readonly string[], Args extends readonly ScriptArg[], Result> = {
  /** The file's name without `.lua`, and the ioredis command it is defined as. */
  readonly name: string;
  readonly lua: string;
  /** Runs the script on `redis` (one Redis, or a Cluster typed as Redis: all keys in one slot). */
  run(redis: Redis, keys: Keys, args: Args): Promise<Result>;
};

const LUA_DIR = new URL('./lua/', import.meta.url);

type Commander = Record<string, ((...a: ScriptArg[]) => unknown) | undefined> & {
  defineCommand(name: string, def: { lua: string }): void;
};

/** Defines the command on `target` once; returns the callable. */
function command(target: object, name: string, lua: string): (...a: ScriptArg[]) => unknown {
  const c = target as Commander;
  if (typeof c[name] !== 'function') c.defineCommand(name, { lua });
  return (c[name] as (...a: ScriptArg[]) => unknown).bind(c);
}

const readLua = (path: string) => readFileSync(new URL(path, LUA_DIR), 'utf8');

/**
 * The script in platform/lua/<file>.lua, with each `--- @include "name"` line replaced by
 * platform/lua/includes/<name>.lua (BullMQ's convention): a helper several scripts need is written
 * once, and Redis still gets one self-contained script. Types are the caller's promise of what the
 * header says; test/platform/lua-scripts-*.test.ts run each script's decisions against a real Redis.
 */
export function defineScript<Keys extends readonly string[], Args extends readonly ScriptArg[], Result>(
  file: string,
): RedisScript<Keys, Args, Result> {
  const lua = readLua(`${file}.lua`).replace(/^--- @include "([\w-]+)"$/gm, (_, inc: string) => readLua(`includes/${inc}.lua`).trimEnd());
  // The ioredis command name: `lua_` + the file name with its dashes as underscores, so it cannot
  // shadow a Redis command of ioredis's.
  const name = `lua_${file.replace(/-/g, '_')}`;
  return {
    name: file,
    lua,
    run: (redis, keys, args) => command(redis, name, lua)(keys.length, ...keys, ...args) as Promise<Result>,
  };
}
