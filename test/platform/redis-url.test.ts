/**
 * REDIS_URL's forms (platform/redis-url.ts) as the configuration reads them: one Redis, a cluster, a
 * Sentinel-managed primary; a malformed one stops the process with a reason that never repeats the
 * password; BullMQ's prefix gets one hash tag per queue on a cluster only.
 */
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../platform/config.js';
import { redisTarget } from '../../platform/redis-url.js';
import { bullPrefix, QUEUE } from '../../queues/names.js';
import { testEnv } from '../support/env.js';

describe('REDIS_URL: one Redis, a Redis Cluster or Sentinel', () => {
  it('reads a cluster: every seed node, credentials (percent-decoded), TLS from rediss+cluster', () => {
    assert.deepEqual(redisTarget('redis+cluster://10.0.0.1:7000,10.0.0.2:7001,[::1]:7002'), {
      mode: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      tls: false,
      username: undefined,
      password: undefined,
    });
    const tls = redisTarget('rediss+cluster://relay:p%40ss@cache.example.com:6379');
    assert.equal(tls.mode, 'cluster');
    assert.deepEqual(tls.mode === 'cluster' && [tls.username, tls.password, tls.tls, tls.nodes], [
      'relay',
      'p@ss',
      true,
      [{ host: 'cache.example.com', port: 6379 }],
    ]);
  });

  it('reads Sentinel: the Sentinels, the primary name, the database, the Sentinels’ own credentials', () => {
    assert.deepEqual(redisTarget('redis+sentinel://:secret@s1:26379,s2:26379/mymaster/2?sentinel_password=sp'), {
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      db: 2,
      sentinelUsername: undefined,
      sentinelPassword: 'sp',
      tls: false,
      username: undefined,
      password: 'secret',
    });
    assert.equal(redisTarget('redis://localhost:6379/0').mode, 'standalone');
  });

  it('refuses what it cannot use, naming the problem and never the password', () => {
    for (const bad of [
      'http://localhost:6379',
      'redis+cluster://',
      'redis+cluster://:hunter2hunter2@host',
      'redis+cluster://host:6379/0',
      'redis+sentinel://:hunter2hunter2@s1:26379',
      'redis+sentinel://s1:26379/name/db/extra',
      'redis+cluster://host:99999',
    ]) {
      assert.throws(
        () => parseConfig(testEnv('url', { REDIS_URL: bad })),
        (err: Error) => err instanceof ConfigError && /REDIS_URL/.test(err.message) && !/hunter2/.test(err.message),
        bad,
      );
    }
    assert.equal(parseConfig(testEnv('url', { REDIS_URL: 'redis+cluster://a:1,b:2' })).redisUrl, 'redis+cluster://a:1,b:2');
  });

  it('tags BullMQ keys per queue on a cluster, and leaves the prefix alone otherwise (its keys are persisted)', () => {
    assert.equal(
      bullPrefix({ queuePrefix: 'bloonio', redisUrl: 'redis+cluster://a:1' }, QUEUE.webhookDelivery),
      '{bloonio:webhook-delivery}',
    );
    assert.equal(bullPrefix({ queuePrefix: 'bloonio', redisUrl: 'redis://a:1' }, QUEUE.webhookDelivery), 'bloonio');
    assert.equal(bullPrefix({ queuePrefix: 'bloonio', redisUrl: 'redis+sentinel://a:1/m' }, QUEUE.push), 'bloonio');
  });
});
