/**
 * The SSRF classifier against the IANA IPv4 and IPv6 Special-Purpose Address Registries, entry by
 * entry: the first, a middle and the last address of every block that is not globally reachable
 * are refused, and addresses that carry an IPv4 address are judged by it. No services needed.
 */
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { IPV4_REFUSED, IPV6_REFUSED, assertPublicUrl, isPublicAddress, ipv6Bytes } from '../../platform/ssrf.js';

const v4ToInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToV4 = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** First, middle and last address of an IPv4 block. */
function v4Samples(net: string, bits: number): string[] {
  const first = v4ToInt(net);
  const size = 2 ** (32 - bits);
  return [first, first + Math.floor(size / 2), first + size - 1].map(intToV4);
}

const hex = (b: Uint8Array) => Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16)).join(':');

/** First, a middle and the last address of an IPv6 block. */
function v6Samples(net: string, bits: number): string[] {
  const base = ipv6Bytes(net)!;
  const last = Uint8Array.from(base);
  const mid = Uint8Array.from(base);
  for (let bit = bits; bit < 128; bit++) last[bit >> 3]! |= 0x80 >> (bit & 7);
  if (bits < 128) mid[bits >> 3]! |= 0x80 >> (bits & 7);
  return [hex(base), hex(mid), hex(last)];
}

describe('SSRF classifier: IANA special-purpose registries', () => {
  describe('IPv4, every non-global block', () => {
    for (const [net, bits, what] of IPV4_REFUSED) {
      it(`refuses ${net}/${bits} (${what})`, () => {
        for (const a of v4Samples(net, bits)) assert.equal(isPublicAddress(a), false, a);
      });
    }
  });

  describe('IPv6, every non-global block', () => {
    for (const [net, bits, what] of IPV6_REFUSED) {
      it(`refuses ${net}/${bits} (${what})`, () => {
        for (const a of v6Samples(net, bits)) {
          // ::ffff:0:0/96 inside ::/8 is judged by its IPv4 address, checked below.
          if (/^0:0:0:0:0:ffff:/.test(a)) continue;
          assert.equal(isPublicAddress(a), false, a);
        }
      });
    }
  });

  const refused = [
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::127.0.0.1', 'IPv4-compatible (deprecated ::/96)'],
    ['::7f00:1', 'IPv4-compatible, hex'],
    ['::8.8.8.8', 'IPv4-compatible of a public address: still refused, the block is deprecated'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'IPv4-mapped metadata, long form'],
    ['::ffff:0:10.0.0.1', 'SIIT IPv4-translated'],
    ['64:ff9b::10.0.0.1', 'NAT64 of a private address'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of the metadata address'],
    ['64:ff9b:1::8.8.8.8', 'NAT64 local-use prefix'],
    ['2002:7f00:1::1', '6to4 of loopback'],
    ['2002:c0a8:101::1', '6to4 of 192.168.1.1'],
    ['2002:a9fe:a9fe::', '6to4 of the metadata address'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation (RFC 9637)'],
    ['fd00:ec2::254', 'AWS metadata over IPv6'],
    ['fe80::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['4000::1', 'outside global unicast 2000::/3'],
    ['fe80::1%eth0', 'zone id'],
    ['255.255.255.255', 'limited broadcast'],
    ['not-an-address', 'not an address'],
    ['', 'empty'],
  ] as const;
  for (const [addr, what] of refused) {
    it(`refuses ${addr || '""'} (${what})`, () => assert.equal(isPublicAddress(addr), false));
  }

  const allowed = [
    '8.8.8.8',
    '93.184.216.34',
    '1.1.1.1',
    '192.31.196.1', // AS112, globally reachable
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
  ];
  for (const addr of allowed) {
    it(`allows ${addr}`, () => assert.equal(isPublicAddress(addr), true));
  }

  it('agrees with a direct BlockList check on 2,000 addresses spread over the IPv4 space', () => {
    const list = new BlockList();
    for (const [net, bits] of IPV4_REFUSED) list.addSubnet(net, bits, 'ipv4');
    for (let i = 0; i < 2000; i++) {
      const a = intToV4(Math.floor((i / 2000) * 2 ** 32) + i);
      assert.equal(isPublicAddress(a), !list.check(a, 'ipv4'), a);
      assert.equal(isPublicAddress(`::ffff:${a}`), !list.check(a, 'ipv4'), `::ffff:${a}`);
    }
  });

  describe('odd IPv4 notations, as URL parsing normalises them, are caught before connecting', () => {
    for (const url of [
      'http://0x7f000001/',
      'http://2130706433/',
      'http://017700000001/',
      'http://127.1/',
      'http://0x7f.1/',
      'http://0177.0.0.1/',
      'http://127.0.0.1./',
      'http://[::127.0.0.1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[0:0:0:0:0:ffff:7f00:1]/',
      'http://169.254.169.254./',
      'http://localhost/',
      'http://LOCALHOST./',
      'http://svc.localhost/',
    ]) {
      it(`refuses ${url}`, () => assert.throws(() => assertPublicUrl(new URL(url)), /non-public/));
    }
    it('lets a public literal through', () => assert.doesNotThrow(() => assertPublicUrl(new URL('http://8.8.8.8/'))));
  });
});
