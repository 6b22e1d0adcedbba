/**
 * The services supervisor (scripts/services/, run as scripts/with-services.sh): its contract with
 * the command, checked with preset REDIS_URL / MONGODB_URI so that no service starts and each case
 * takes a second: the exit code is the command's (128+N for signal N), usage is exit 2, a missing
 * command is 127, the summary line names preset URLs without their credentials, and the command
 * sees LOCAL_SERVICES_PID. Starting, restarting and reaping real services is covered by the chaos,
 * durability and stopping tests.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseRequest } from '../../scripts/services/ctl.js';
import { urlHost } from '../../scripts/services/supervisor.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function withServices(...command: string[]) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: 'redis://user:pw@cache.example:6380/2',
    MONGODB_URI: 'mongodb://u:p@db.example:27017/x?tls=true',
  };
  delete env.LOCAL_SERVICES_PID;
  const r = spawnSync('bash', ['scripts/with-services.sh', ...command], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('services supervisor (scripts/with-services.sh)', function () {
  this.timeout(120_000);

  it('names preset URLs without scheme, credentials, path or query', () => {
    assert.equal(urlHost('redis://user:pw@cache.example:6380/2'), 'cache.example:6380');
    assert.equal(urlHost('mongodb+srv://u:p@db.example/x?tls=true'), 'db.example');
    assert.equal(urlHost('redis://127.0.0.1:6390'), '127.0.0.1:6390');
  });

  it('reads a restart request, defaulting to a clean stop and no downtime', () => {
    assert.deepEqual(parseRequest('restart redis kill 3000\n'), { verb: 'restart', name: 'redis', how: 'kill', downMs: 3000 });
    assert.deepEqual(parseRequest('restart ferretdb'), { verb: 'restart', name: 'ferretdb', how: 'term', downMs: 0 });
  });

  it("exits with the command's code, and 128+N when the command dies from signal N", () => {
    assert.equal(withServices('bash', '-c', 'exit 7').status, 7);
    assert.equal(withServices('bash', '-c', 'kill -TERM $$').status, 143);
  });

  it('usage without a command is exit 2; a command that does not exist is exit 127', () => {
    const usage = withServices();
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /^usage: bash scripts\/with-services\.sh <command>/);
    assert.equal(withServices('no-such-command-here').status, 127);
  });

  it('prints one summary line without credentials, and gives the command the URLs and LOCAL_SERVICES_PID', () => {
    const r = withServices('bash', '-c', 'echo "$REDIS_URL|$MONGODB_URI|$LOCAL_SERVICES_PID"');
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /^local services: redis cache\.example:6380 \(from REDIS_URL\), mongodb db\.example:27017 \(from MONGODB_URI\)$/m,
    );
    assert.doesNotMatch(r.stderr, /pw|u:p/);
    const [redis, mongo, pid] = r.stdout.trim().split('|');
    assert.equal(redis, 'redis://user:pw@cache.example:6380/2');
    assert.equal(mongo, 'mongodb://u:p@db.example:27017/x?tls=true');
    assert.match(pid ?? '', /^\d+$/);
  });
});
