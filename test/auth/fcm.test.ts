/**
 * platform/fcm.ts driven through the real firebase-admin client against test/fakes/fcm-server.ts
 * over real HTTPS sockets. The OAuth token comes from platform/fcm.ts's own Credential (see why
 * there); one test also runs firebase-admin's stock credential to keep the fake's token endpoint honest.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cert, deleteApp, initializeApp } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import { createFcmSender, parseServiceAccount, type FcmSender } from '../../platform/fcm.js';
import {
  FCM_HOST,
  FakeFcmServer,
  INVALID_GRANT,
  OAUTH_HOST,
  createTestServiceAccount,
  fcmError,
  type FakeGoogleAgent,
  type TestServiceAccount,
} from '../fakes/fcm-server.js';

describe('platform/fcm (firebase-admin against a fake FCM + OAuth over TLS)', function () {
  this.timeout(20_000);

  let account: TestServiceAccount;
  let fake: FakeFcmServer;
  let agent: FakeGoogleAgent;
  let sender: FcmSender | undefined;

  const newSender = (): FcmSender => {
    sender = createFcmSender({ serviceAccountJson: account.json, httpAgent: agent });
    return sender;
  };

  /** Secret material (key lines, PEM header, access token, JWT) found in `text`; expected empty. */
  const secretsIn = (text: string): string[] => {
    const keyBody = account.privateKeyPem.split('\n').filter((l) => l && !l.startsWith('-----'));
    const found = keyBody.filter((line) => text.includes(line));
    if (/PRIVATE KEY/.test(text)) found.push('PEM header');
    if (/ya29\./.test(text)) found.push('access token');
    if (/eyJ[\w-]+\.eyJ/.test(text)) found.push('JWT assertion');
    return found;
  };

  before(async () => {
    account = createTestServiceAccount('bloonio-test');
    fake = new FakeFcmServer(account);
    ({ agent } = await fake.start());
  });
  after(async () => {
    await fake.stop();
  });
  beforeEach(() => fake.reset());
  afterEach(async () => {
    await sender?.close();
    sender = undefined;
    assert.deepEqual(fake.unexpected, [], 'firebase-admin called an endpoint the fake does not implement');
  });

  it('delivers the data payload over the agent; one OAuth token is fetched and reused', async () => {
    const s = newSender();
    const tokens = ['tok-a', 'tok-b', 'tok-c'];
    const first = await Promise.all(
      tokens.map((t) =>
        s.send(t, {
          data: { kind: 'auth_request', request_id: `r-${t}` },
          notification: { title: 'Sign in?', body: 'Approve' },
        }),
      ),
    );
    const later = await s.send('tok-a', { data: { kind: 'ping' } });

    for (const r of [...first, later]) {
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.match(r.ok ? r.messageId : '', /^projects\/bloonio-test\/messages\//);
    }
    assert.deepEqual(fake.received.map((m) => m.token).sort(), ['tok-a', 'tok-a', 'tok-b', 'tok-c']);
    const b = fake.received.find((m) => m.token === 'tok-b');
    assert.deepEqual(b?.data, { kind: 'auth_request', request_id: 'r-tok-b' });
    assert.deepEqual(b?.notification, { title: 'Sign in?', body: 'Approve' });
    assert.equal(b?.validateOnly, false);
    // TLS SNI and Host say fcm.googleapis.com: firebase-admin believed it talked to Google.
    assert.ok(fake.received.every((m) => m.servername === FCM_HOST && m.hostHeader === FCM_HOST));

    // One token fetch (JWT verified by the fake), and every send presented that same token.
    assert.equal(fake.tokenRequests.length, 1);
    const [tokenRequest] = fake.tokenRequests;
    assert.equal(tokenRequest?.servername, OAUTH_HOST);
    assert.equal(tokenRequest?.claims?.iss, account.clientEmail);
    assert.equal(new Set(fake.received.map((m) => m.accessToken)).size, 1);
    // Both hosts were reached through the agent we passed, and nothing else.
    assert.deepEqual([...new Set(agent.connectedHosts)].sort(), [FCM_HOST, OAUTH_HOST].sort());
  });

  it('maps ttlSeconds and collapseKey onto android and apns', async () => {
    const s = newSender();
    const before = Math.floor(Date.now() / 1000);
    const r = await s.send('tok-ttl', { data: { k: 'v' }, ttlSeconds: 120, collapseKey: 'auth-42' });
    assert.equal(r.ok, true);
    const [m] = fake.received;
    assert.deepEqual(m?.android, { ttl: '120s', collapse_key: 'auth-42' });
    const headers = (m?.apns as { headers: Record<string, string> }).headers;
    assert.equal(headers['apns-collapse-id'], 'auth-42');
    const expiration = Number(headers['apns-expiration']);
    assert.ok(expiration >= before + 120 && expiration <= before + 122, String(expiration));
  });

  it('UNREGISTERED (404) -> invalid_token', async () => {
    fake.script('tok-gone', [fcmError('UNREGISTERED')]);
    const r = await newSender().send('tok-gone', { data: { k: 'v' } });
    assert.deepEqual(r, { ok: false, kind: 'invalid_token', code: 'UNREGISTERED' });
    assert.equal(fake.received.length, 1);
  });

  it('INVALID_ARGUMENT about the token -> invalid_token; about the payload -> permanent', async () => {
    fake.script('tok-bad', [fcmError('INVALID_ARGUMENT')]);
    fake.script('tok-fine', [
      fcmError('INVALID_ARGUMENT', {
        message: "Invalid value at 'message.data[0].value'",
        field: 'message.data[0].value',
      }),
    ]);
    const s = newSender();
    assert.deepEqual(await s.send('tok-bad', { data: { k: 'v' } }), {
      ok: false,
      kind: 'invalid_token',
      code: 'INVALID_ARGUMENT',
    });
    assert.deepEqual(await s.send('tok-fine', { data: { k: 'v' } }), {
      ok: false,
      kind: 'permanent',
      code: 'INVALID_ARGUMENT',
    });
  });

  it('429 QUOTA_EXCEEDED with Retry-After -> transient with retryAfterMs, not retried by firebase-admin', async () => {
    fake.script('tok-q', [fcmError('QUOTA_EXCEEDED', { retryAfter: 30 })]);
    const r = await newSender().send('tok-q', { data: { k: 'v' } });
    assert.deepEqual(r, { ok: false, kind: 'transient', code: 'QUOTA_EXCEEDED', retryAfterMs: 30_000 });
    assert.equal(fake.received.length, 1);
  });

  it('500 INTERNAL -> transient, not retried by firebase-admin', async () => {
    fake.script('tok-i', [fcmError('INTERNAL')]);
    const r = await newSender().send('tok-i', { data: { k: 'v' } });
    assert.deepEqual(r, { ok: false, kind: 'transient', code: 'INTERNAL' });
    assert.equal(fake.received.length, 1);
  });

  it('a single 503 is retried inside firebase-admin and the send succeeds', async () => {
    fake.script('tok-blip', [fcmError('UNAVAILABLE')]);
    const r = await newSender().send('tok-blip', { data: { k: 'v' } });
    assert.equal(r.ok, true);
    assert.deepEqual(
      fake.received.map((m) => m.answeredStatus),
      [503, 200],
    );
  });

  it('persistent 503 -> transient with retryAfterMs, after firebase-admin made 5 attempts', async () => {
    // Retry-After: 1 makes firebase-admin wait 1s between its attempts instead of 0/1/2/4s.
    fake.script(
      'tok-down',
      Array.from({ length: 5 }, () => fcmError('UNAVAILABLE', { retryAfter: 1 })),
    );
    const started = Date.now();
    const r = await newSender().send('tok-down', { data: { k: 'v' } });
    assert.deepEqual(r, { ok: false, kind: 'transient', code: 'UNAVAILABLE', retryAfterMs: 1000 });
    assert.equal(fake.received.length, 5);
    assert.ok(Date.now() - started >= 4000, 'firebase-admin honoured Retry-After between its retries');
  });

  it('SENDER_ID_MISMATCH and THIRD_PARTY_AUTH_ERROR -> permanent', async () => {
    fake.script('tok-other-project', [fcmError('SENDER_ID_MISMATCH')]);
    fake.script('tok-ios', [fcmError('THIRD_PARTY_AUTH_ERROR')]);
    const s = newSender();
    assert.deepEqual(await s.send('tok-other-project', { data: { k: 'v' } }), {
      ok: false,
      kind: 'permanent',
      code: 'SENDER_ID_MISMATCH',
    });
    assert.deepEqual(await s.send('tok-ios', { data: { k: 'v' } }), {
      ok: false,
      kind: 'permanent',
      code: 'THIRD_PARTY_AUTH_ERROR',
    });
  });

  it('a refused token fetch is classified, leaks nothing, and the next send fetches again', async () => {
    fake.scriptToken([INVALID_GRANT]);
    const s = newSender();
    const r = await s.send('tok-a', { data: { k: 'v' } });
    assert.deepEqual(r, { ok: false, kind: 'permanent', code: 'OAUTH_TOKEN_REJECTED' });
    assert.deepEqual(secretsIn(JSON.stringify(r)), []);
    assert.equal(fake.tokenRequests.length, 1);
    assert.equal(fake.received.length, 0, 'no FCM call without a token');

    const again = await s.send('tok-a', { data: { k: 'v' } });
    assert.equal(again.ok, true);
    assert.equal(fake.tokenRequests.length, 2);
  });

  it('a token endpoint answering 503 -> transient, not retried within the send', async () => {
    fake.scriptToken([{ ok: false, status: 503, body: { error: 'temporarily_unavailable' } }]);
    const r = await newSender().send('tok-a', { data: { k: 'v' } });
    assert.deepEqual(r, { ok: false, kind: 'transient', code: 'OAUTH_TOKEN_UNAVAILABLE' });
    assert.equal(fake.tokenRequests.length, 1);
    assert.equal(fake.received.length, 0);
  });

  it('a key the token endpoint cannot verify is rejected by the fake (the JWT check is real)', async () => {
    const stranger = createTestServiceAccount('bloonio-test');
    // Same client_email and project as the fake's account, different private key.
    const forged = JSON.stringify({ ...JSON.parse(stranger.json), client_email: account.clientEmail });
    sender = createFcmSender({ serviceAccountJson: forged, httpAgent: agent });
    const r = await sender.send('tok-a', { data: { k: 'v' } });
    assert.deepEqual(r, { ok: false, kind: 'permanent', code: 'OAUTH_TOKEN_REJECTED' });
    assert.equal(fake.tokenRequests[0]?.claims, null);
  });

  it("the fake's token endpoint accepts google-auth-library's own assertion (cert(keyFilePath, agent))", async () => {
    // Keeps the fake honest: the stock firebase-admin credential, which signs with google-auth-library,
    // gets a token from it. (Only the key-file-path form of cert() uses the agent; see platform/fcm.ts.)
    const dir = mkdtempSync(join(tmpdir(), 'fcm-sa-'));
    const keyFile = join(dir, 'sa.json');
    writeFileSync(keyFile, account.json, { mode: 0o600 });
    const app = initializeApp({ credential: cert(keyFile, agent), httpAgent: agent, projectId: account.projectId }, 'stock-credential');
    try {
      const id = await getMessaging(app).send({ token: 'tok-stock', data: { k: 'v' } });
      assert.match(id, /^projects\/bloonio-test\/messages\//);
      assert.equal(fake.tokenRequests.length, 1);
      assert.equal(fake.tokenRequests[0]?.claims?.iss, account.clientEmail);
    } finally {
      await deleteApp(app);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('service account errors name fields, never the key', () => {
    const sa = JSON.parse(account.json) as Record<string, unknown>;
    const cases = [
      JSON.stringify({ ...sa, project_id: undefined }),
      JSON.stringify({ ...sa, client_email: 'not-an-email' }),
      JSON.stringify({
        ...sa,
        private_key: `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(64)}\n-----END PRIVATE KEY-----\n`,
      }),
      account.json.slice(0, -5), // truncated JSON
    ];
    for (const json of cases) {
      assert.throws(
        () => createFcmSender({ serviceAccountJson: json, httpAgent: agent }),
        (err: Error) => {
          assert.match(err.message, /^FCM service account: /);
          assert.deepEqual(secretsIn(`${err.message}\n${err.stack ?? ''}`), []);
          return true;
        },
      );
    }
    assert.match(String(catchMessage(() => parseServiceAccount(cases[0] ?? ''))), /project_id/);
    // A key with escaped newlines (as env vars often carry it) is accepted.
    const escaped = JSON.stringify({ ...sa, private_key: account.privateKeyPem.replaceAll('\n', '\\n') });
    assert.equal(parseServiceAccount(escaped).privateKey, account.privateKeyPem);
  });

  it('programming errors throw: invalid message shape, send after close', async () => {
    const s = newSender();
    await assert.rejects(s.send('tok-a', { data: { n: 1 } as unknown as Record<string, string> }), /data/);
    await s.close();
    await assert.rejects(s.send('tok-a', { data: {} }), /closed/);
    assert.equal(fake.received.length, 0);
  });
});

function catchMessage(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
