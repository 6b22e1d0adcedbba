/**
 * SSRF guard for callbacks (docs/contract.md §1.4). A callback host that resolves to a loopback, private,
 * link-local, CGNAT, metadata or otherwise non-public address is refused. The check lives in the
 * DNS lookup the HTTP client uses to connect, so the socket goes to exactly the address that was
 * checked: there is no second resolution an attacker's DNS could answer differently (rebinding).
 *
 * The classifier is table-driven from the IANA IPv4 and IPv6 Special-Purpose Address Registries:
 * every entry that is not globally reachable is refused (plus multicast and, for IPv6, everything
 * outside global unicast 2000::/3). Addresses that carry an IPv4 address (IPv4-mapped, the NAT64
 * well-known prefix, 6to4) are judged by that IPv4 address. A few registry blocks mix reachable and
 * unreachable entries (192.0.0.0/24, 2001::/23); they are refused whole, deliberately: their globally
 * reachable entries are anycast service addresses (PCP, TURN, AS112, AMT, ORCHID), never a tenant's
 * webhook receiver.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** IANA IPv4 Special-Purpose Address Registry, entries not globally reachable; plus multicast. */
export const IPV4_REFUSED: readonly (readonly [string, number, string])[] = [
  ['0.0.0.0', 8, '"this network" (RFC 791)'],
  ['10.0.0.0', 8, 'private use (RFC 1918)'],
  ['100.64.0.0', 10, 'shared address space, CGNAT (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback (RFC 1122)'],
  ['169.254.0.0', 16, 'link local, incl. 169.254.169.254 cloud metadata (RFC 3927)'],
  ['172.16.0.0', 12, 'private use (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments, incl. DS-Lite 192.0.0.0/29, NAT64 discovery .170/.171 (RFC 6890)'],
  ['192.0.2.0', 24, 'documentation TEST-NET-1 (RFC 5737)'],
  ['192.88.99.0', 24, 'deprecated 6to4 relay anycast (RFC 7526)'],
  ['192.168.0.0', 16, 'private use (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking (RFC 2544)'],
  ['198.51.100.0', 24, 'documentation TEST-NET-2 (RFC 5737)'],
  ['203.0.113.0', 24, 'documentation TEST-NET-3 (RFC 5737)'],
  ['224.0.0.0', 4, 'multicast (RFC 5771)'],
  ['240.0.0.0', 4, 'reserved (RFC 1112), incl. 255.255.255.255 limited broadcast'],
];

/** IANA IPv6 Special-Purpose Address Registry, entries not globally reachable (inside 2000::/3 or not). */
export const IPV6_REFUSED: readonly (readonly [string, number, string])[] = [
  ['::', 8, 'reserved: unspecified ::/128, loopback ::1/128, IPv4-compatible ::/96 (RFC 4291), SIIT ::ffff:0:0:0/96'],
  ['64:ff9b:1::', 48, 'IPv4-IPv6 translation, local use (RFC 8215)'],
  ['100::', 64, 'discard-only (RFC 6666)'],
  ['100:0:0:1::', 64, 'dummy IPv6 prefix (RFC 9780)'],
  ['2001::', 23, 'IETF protocol assignments, incl. Teredo 2001::/32, benchmarking 2001:2::/48, ORCHIDv2 (RFC 2928)'],
  ['2001:db8::', 32, 'documentation (RFC 3849)'],
  ['3fff::', 20, 'documentation (RFC 9637)'],
  ['5f00::', 16, 'segment routing SIDs (RFC 9602)'],
  ['fc00::', 7, 'unique local, incl. fd00:ec2::254 AWS metadata (RFC 4193)'],
  ['fe80::', 10, 'link-local unicast (RFC 4291)'],
  ['fec0::', 10, 'deprecated site-local (RFC 3879)'],
  ['ff00::', 8, 'multicast (RFC 4291)'],
];

const refusedV4 = new BlockList();
for (const [net, bits] of IPV4_REFUSED) refusedV4.addSubnet(net, bits, 'ipv4');
const refusedV6 = new BlockList();
for (const [net, bits] of IPV6_REFUSED) refusedV6.addSubnet(net, bits, 'ipv6');
const globalUnicast = new BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');

/** The 16 bytes of an IPv6 address (`::`, an embedded dotted quad), or null. A zone id is not accepted. */
export function ipv6Bytes(addr: string): Uint8Array | null {
  if (isIP(addr) !== 6 || addr.includes('%')) return null;
  let text = addr;
  const tail: number[] = [];
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    tail.push(...quad.slice(1).map(Number));
    text = `${text.slice(0, quad.index)}0:0`; // two placeholder groups, overwritten below
  }
  const [head = '', rest] = text.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - r.length).fill(0), ...r];
  if (all.length !== 8) return null;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 255;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

const v4 = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
const zeros = (b: Uint8Array, from: number, to: number) => b.subarray(from, to).every((x) => x === 0);

/** The IPv4 address an IPv6 address stands for: IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16. */
export function embeddedIPv4(b: Uint8Array): string | null {
  if (zeros(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(b, 12);
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(b, 4, 12)) return v4(b, 12);
  if (b[0] === 0x20 && b[1] === 0x02) return v4(b, 2);
  return null;
}

/** True only for an address a tenant's public receiver can have. Anything unparseable is not public. */
export function isPublicAddress(addr: string): boolean {
  if (typeof addr !== 'string') return false;
  const family = isIP(addr);
  if (family === 4) return !refusedV4.check(addr, 'ipv4');
  if (family !== 6) return false;
  const bytes = ipv6Bytes(addr);
  if (!bytes) return false;
  const inner = embeddedIPv4(bytes);
  if (inner) return !refusedV4.check(inner, 'ipv4');
  return globalUnicast.check(addr, 'ipv6') && !refusedV6.check(addr, 'ipv6');
}

/** Host names that are loopback by definition (RFC 6761 §6.3), whatever a resolver says. */
export function isLoopbackName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

export class RefusedAddressError extends Error {
  readonly code = 'ERR_REFUSED_ADDRESS';
  constructor(host: string) {
    // The message names the host, never the resolved addresses of an internal network.
    super(`callback host ${host} resolves to a non-public address`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A drop-in for dns.lookup that only ever yields public addresses. Node's HTTP stack calls it
 * with `all: true` (happy eyeballs) or without; both forms are answered.
 */
export function guardedLookup(hostname: string, options: LookupOptions | number | LookupCallback, callback?: LookupCallback): void {
  const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
  const opts: LookupOptions = typeof options === 'object' ? options : typeof options === 'number' ? { family: options } : {};
  dnsLookup(hostname, { ...opts, all: true }, (err, addresses) => {
    if (err) return cb(err, []);
    if (addresses.length === 0 || addresses.some((a) => !isPublicAddress(a.address))) {
      return cb(new RefusedAddressError(hostname), []);
    }
    if (opts.all) return cb(null, addresses);
    const first = addresses[0] as LookupAddress;
    return cb(null, first.address, first.family);
  });
}

/** The host of a URL when it is a literal IP address (URL parsing has already normalised odd IPv4 notations). */
export function literalHost(url: URL): string | null {
  const host = url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return isIP(host) ? host : null;
}

/** Literal IP hosts never reach a lookup function, so they are checked here before connecting. */
export function assertPublicUrl(url: URL): void {
  const host = literalHost(url);
  if (host && !isPublicAddress(host)) throw new RefusedAddressError(host);
  if (isLoopbackName(url.hostname)) throw new RefusedAddressError(url.hostname);
}
