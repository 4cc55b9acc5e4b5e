import type { IncomingMessage } from 'node:http';
import { clientAddressResolver } from './client-address';

const request = (peer: string, forwarded?: string) =>
  ({
    socket: { remoteAddress: peer },
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
  }) as unknown as IncomingMessage;

describe('clientAddressResolver', () => {
  it('takes the peer when no proxy is trusted, whatever the header says', () => {
    expect(clientAddressResolver(false)(request('::ffff:10.1.2.3', '6.6.6.6'))).toBe('10.1.2.3');
  });

  it('takes the entry the last trusted hop appended, never a forged leftmost one', () => {
    const one = clientAddressResolver(1);
    expect(one(request('10.0.0.5', '6.6.6.6, 203.0.113.9'))).toBe('203.0.113.9');
    expect(one(request('10.0.0.5'))).toBe('10.0.0.5');
    expect(clientAddressResolver(2)(request('10.0.0.5', '6.6.6.6, 203.0.113.9, 10.0.0.7'))).toBe(
      '203.0.113.9',
    );
  });

  it('trusts the hops in a list of addresses, CIDRs and names', () => {
    const listed = clientAddressResolver(['10.0.0.0/8', 'loopback']);
    expect(listed(request('127.0.0.1', '6.6.6.6, 198.51.100.4, 10.2.3.4'))).toBe('198.51.100.4');
    expect(listed(request('192.0.2.1', '6.6.6.6'))).toBe('192.0.2.1');
  });
});
