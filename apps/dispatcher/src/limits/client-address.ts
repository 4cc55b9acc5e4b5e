import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { TrustProxy } from '@smsfleet/config';

const NAMED: Record<string, Array<[string, number, 'ipv4' | 'ipv6']>> = {
  loopback: [
    ['127.0.0.0', 8, 'ipv4'],
    ['::1', 128, 'ipv6'],
  ],
  linklocal: [
    ['169.254.0.0', 16, 'ipv4'],
    ['fe80::', 10, 'ipv6'],
  ],
  uniquelocal: [
    ['10.0.0.0', 8, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    ['fc00::', 7, 'ipv6'],
  ],
};

/** An IPv4 address mapped into IPv6 (`::ffff:1.2.3.4`, as dual-stack sockets report it) as IPv4. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The phone's address as the limits see it, from a request's peer and `X-Forwarded-For`, trusting the
 * hops `trust` names as `DISPATCHER_TRUST_PROXY` does for the app's routes (Fastify's `request.ip`, the
 * same rules as the API's, ADR 0904): walks from the peer towards the client while each hop is trusted.
 */
export function clientAddressResolver(trust: TrustProxy): (request: IncomingMessage) => string {
  let trusted: (address: string, hop: number) => boolean;
  if (trust === false) trusted = () => false;
  else if (typeof trust === 'number') trusted = (_address, hop) => hop < trust;
  else {
    const list = new BlockList();
    for (const entry of trust) {
      for (const [network, prefix, family] of NAMED[entry] ?? []) list.addSubnet(network, prefix, family);
      if (NAMED[entry]) continue;
      const [address, prefix] = entry.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) list.addAddress(address, family);
      else list.addSubnet(address, Number(prefix), family);
    }
    trusted = (address) => {
      const family = isIP(address);
      return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
    };
  }
  return (request) => {
    const peer = plain(request.socket.remoteAddress ?? 'unknown');
    if (trust === false) return peer;
    const header = request.headers['x-forwarded-for'];
    const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((entry) => plain(entry.trim()))
      .filter((entry) => entry !== '')
      .reverse();
    const hops = [peer, ...forwarded];
    for (let hop = 0; hop < hops.length - 1; hop++) if (!trusted(hops[hop], hop)) return hops[hop];
    return hops[hops.length - 1];
  };
}
