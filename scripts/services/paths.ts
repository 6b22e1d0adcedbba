/**
 * Where the local services live (all under the git-ignored .data/ folder) and the one log line format
 * of the supervisor. Shared by every file of scripts/services/.
 *   .data/redis/<run>/     redis.log, redis.pid, AOF files
 *   .data/ferretdb/<run>/  SQLite files; log in .data/ferretdb/<run>.log
 *   .data/bin/ferretdb     built from scripts/ferretdb (FerretDB v1.24.0 embedded, see main.go for why)
 *   .data/run/             pid bookkeeping (a run that was SIGKILLed gets cleaned up) and restart requests
 * <run> is "dev" with LOCAL_SERVICES_PERSIST=1 and "test-<pid>" otherwise.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const DATA = join(ROOT, '.data');
export const RUN_DIR = join(DATA, 'run');

/** Every line the supervisor prints goes to stderr with this prefix (stdout is the command's). */
export function log(message: string): void {
  process.stderr.write(`with-services: ${message}\n`);
}

/** A failure that stops the start-up: printed as "with-services: error: …", exit status 1. */
export class Fatal extends Error {}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
