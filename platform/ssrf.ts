/**
 * SSRF guard for callbacks (SPEC §1.4). A callback host that resolves to a loopback, private,
 * link-local, CGNAT, metadata or otherwise non-public address is refused. The check lives in the
 * DNS lookup the HTTP client uses to connect, so the socket goes to exactly the address that was
 * checked: there is no second resolution an attacker's DNS could answer differently (rebinding).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, including 169.254.169.254 (cloud metadata)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local, including fd00:ec2::254 (AWS metadata over IPv6)
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['100::', 64], // discard-only
] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

/** Addresses that embed an IPv4 address (mapped, NAT64) are judged by that IPv4 address. */
function embeddedV4(addr: string): string | null {
  const m = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (m?.[1]) return m[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(addr);
  if (hex?.[1] && hex[2]) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return null;
}

export function isPublicAddress(addr: string): boolean {
  const v4 = embeddedV4(addr);
  if (v4) return !blocked.check(v4, 'ipv4');
  const family = isIP(addr);
  if (family === 4) return !blocked.check(addr, 'ipv4');
  if (family === 6) return !blocked.check(addr, 'ipv6');
  return false;
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

/** Literal IP hosts never reach a lookup function, so they are checked here before connecting. */
export function assertPublicUrl(url: URL): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !isPublicAddress(host)) throw new RefusedAddressError(host);
}
