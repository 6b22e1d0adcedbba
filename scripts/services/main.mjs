// Node entry of scripts/with-services.sh and of the supervisor's watchdog: loads tsx from this
// repository (a `node --import tsx` would look for it from the caller's working directory, and the
// command must keep that directory), then the TypeScript entry point, cli.ts.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
