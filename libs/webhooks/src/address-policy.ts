import { BlockList, isIP } from 'node:net';
import { BoundedMemo } from './bounded-memo';

export interface AddressPolicyOptions {
  /**
   * Operator setting: deliver to loopback, private, link-local, CGNAT and unique-local addresses (tests,
   * LAN installs). Addresses that are never a unicast host (unspecified, multicast, reserved) and the
   * cloud metadata addresses stay refused whatever it says.
   */
  allowPrivateTargets: boolean;
}

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/** A refused range; `private` ones are allowed by allowPrivateTargets. */
interface Range {
  label: string;
  cidr: string;
  private: boolean;
}

const V4_RANGES: readonly Range[] = [
  // Metadata first: it lies inside link-local, and must win over the setting.
  { label: 'cloud metadata', cidr: '169.254.169.254/32', private: false },
  { label: 'cloud metadata', cidr: '100.100.100.200/32', private: false },
  { label: 'unspecified ("this network")', cidr: '0.0.0.0/8', private: false },
  { label: 'loopback', cidr: '127.0.0.0/8', private: true },
  { label: 'private', cidr: '10.0.0.0/8', private: true },
  { label: 'private', cidr: '172.16.0.0/12', private: true },
  { label: 'private', cidr: '192.168.0.0/16', private: true },
  { label: 'link-local', cidr: '169.254.0.0/16', private: true },
  { label: 'carrier-grade NAT', cidr: '100.64.0.0/10', private: true },
  { label: 'IETF protocol assignments', cidr: '192.0.0.0/24', private: true },
  { label: 'benchmarking', cidr: '198.18.0.0/15', private: true },
  { label: 'documentation', cidr: '192.0.2.0/24', private: false },
  { label: 'documentation', cidr: '198.51.100.0/24', private: false },
  { label: 'documentation', cidr: '203.0.113.0/24', private: false },
  { label: '6to4 relay anycast', cidr: '192.88.99.0/24', private: false },
  { label: 'multicast', cidr: '224.0.0.0/4', private: false },
  { label: 'reserved or broadcast', cidr: '240.0.0.0/4', private: false },
];

const V6_RANGES: readonly Range[] = [
  { label: 'cloud metadata', cidr: 'fd00:ec2::254/128', private: false },
  { label: 'unspecified', cidr: '::/128', private: false },
  { label: 'loopback', cidr: '::1/128', private: true },
  // IPv4-compatible (deprecated): no host uses them; the embedded forms that matter are unwrapped below.
  { label: 'IPv4-compatible (deprecated)', cidr: '::/96', private: false },
  { label: 'discard-only', cidr: '100::/64', private: false },
  { label: 'local-use NAT64', cidr: '64:ff9b:1::/48', private: true },
  { label: 'documentation', cidr: '2001:db8::/32', private: false },
  { label: 'unique local', cidr: 'fc00::/7', private: true },
  { label: 'link-local', cidr: 'fe80::/10', private: true },
  { label: 'site-local (deprecated)', cidr: 'fec0::/10', private: true },
  { label: 'multicast', cidr: 'ff00::/8', private: false },
];

interface CompiledRange extends Range {
  list: BlockList;
}

function compile(ranges: readonly Range[], family: 'ipv4' | 'ipv6'): CompiledRange[] {
  return ranges.map((range) => {
    const [network, prefix] = range.cidr.split('/');
    const list = new BlockList();
    list.addSubnet(network, Number(prefix), family);
    return { ...range, list };
  });
}

const COMPILED_V4 = compile(V4_RANGES, 'ipv4');
const COMPILED_V6 = compile(V6_RANGES, 'ipv6');

/**
 * Whether an IP address may be a webhook's delivery target. Every address a host name resolves to is
 * judged here at connect time (safe-http-client.ts), so what is checked is what is connected to.
 *
 * Verdicts are remembered per address text: a verdict depends on the address and the setting alone, never
 * on a name or the time, so a remembered one is what judging again would answer (a name that resolves
 * elsewhere tomorrow brings a new address, judged then). Judging walks a `BlockList` per range, about
 * 20 µs: 4 % of the delivering worker's CPU at one event per POST (docs/benchmarks.md).
 */
export class AddressPolicy {
  private readonly verdicts = new BoundedMemo((address) => this.judge(address));

  constructor(private readonly options: AddressPolicyOptions) {}

  get allowsPrivateTargets(): boolean {
    return this.options.allowPrivateTargets;
  }

  check(address: string): AddressVerdict {
    return this.verdicts.get(address);
  }

  private judge(address: string): AddressVerdict {
    const found = refusedRangeOf(address);
    if (found === undefined) return { allowed: true };
    if (found.private && this.options.allowPrivateTargets) return { allowed: true };
    return { allowed: false, reason: found.reason };
  }
}

/** The refused range `address` falls in (with the address judged, for embedded IPv4), or undefined. */
export function refusedRangeOf(address: string): { reason: string; private: boolean } | undefined {
  const family = isIP(address);
  if (family === 4) return v4Range(address);
  if (family !== 6) return { reason: 'not an IP address', private: false };
  const hextets = ipv6Hextets(address);
  const embedded = embeddedV4(hextets);
  if (embedded !== undefined) {
    const inner = v4Range(embedded.v4);
    if (inner !== undefined)
      return { ...inner, reason: `${inner.reason} (${embedded.via} of ${embedded.v4})` };
    if (embedded.via === 'IPv4-mapped') return undefined;
  }
  const canonical = hextets.map((h) => h.toString(16)).join(':');
  for (const range of COMPILED_V6)
    if (range.list.check(canonical, 'ipv6'))
      return { reason: `${range.label} address`, private: range.private };
  return undefined;
}

function v4Range(address: string): { reason: string; private: boolean } | undefined {
  for (const range of COMPILED_V4)
    if (range.list.check(address, 'ipv4'))
      return { reason: `${range.label} address`, private: range.private };
  return undefined;
}

/** The eight 16-bit groups of a valid IPv6 address (a dotted IPv4 tail and a zone id allowed). */
export function ipv6Hextets(address: string): number[] {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const [a, b, c, d] = last.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const gap = text.indexOf('::');
  if (gap < 0) return parse(text);
  const left = parse(text.slice(0, gap));
  const right = parse(text.slice(gap + 2));
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function v4Of(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/**
 * The IPv4 address an IPv6 address stands for, where a router or the kernel would deliver to it:
 * IPv4-mapped (::ffff:a.b.c.d), well-known NAT64 (64:ff9b::/96), 6to4 (2002::/16) and Teredo's client
 * (2001::/32, obfuscated by XOR).
 */
function embeddedV4(h: number[]): { v4: string; via: string } | undefined {
  const zeros = (from: number, to: number) => h.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && h[5] === 0xffff) return { v4: v4Of(h[6], h[7]), via: 'IPv4-mapped' };
  if (h[0] === 0x64 && h[1] === 0xff9b && zeros(2, 6)) return { v4: v4Of(h[6], h[7]), via: 'NAT64' };
  if (h[0] === 0x2002) return { v4: v4Of(h[1], h[2]), via: '6to4' };
  if (h[0] === 0x2001 && h[1] === 0) return { v4: v4Of(h[6] ^ 0xffff, h[7] ^ 0xffff), via: 'Teredo' };
  return undefined;
}
