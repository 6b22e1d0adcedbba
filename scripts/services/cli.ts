/**
 * Entry point of scripts/with-services.sh (a shim that runs this file through main.mjs):
 *   bash scripts/with-services.sh <command> [args...]     the command with Redis and FerretDB (supervisor.ts)
 *   cli.ts --reap-run <pid>                               the watchdog's job once supervisor <pid> died (runs.ts)
 */
import { runWithServices } from './supervisor.js';
import { reapRun } from './runs.js';

const argv = process.argv.slice(2);
if (argv[0] === '--reap-run' && argv[1]) {
  const stopTimeoutMs = (Number(process.env.LOCAL_SERVICES_STOP_TIMEOUT) || 25) * 1000;
  await reapRun(Number(argv[1]), { command: true, stopTimeoutMs });
} else {
  await runWithServices(argv);
}
