import { AddressPolicy, ipv6Hextets, refusedRangeOf } from './address-policy';

const strict = new AddressPolicy({ allowPrivateTargets: false });
const lan = new AddressPolicy({ allowPrivateTargets: true });

function reasonOf(policy: AddressPolicy, address: string): string | undefined {
  const verdict = policy.check(address);
  return verdict.allowed ? undefined : verdict.reason;
}

describe('AddressPolicy', () => {
  it('allows public unicast addresses of both families', () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '93.184.216.34',
      '2606:4700:4700::1111',
      '2a00:1450:4001::200e',
    ])
      expect(strict.check(address)).toEqual({ allowed: true });
  });

  it.each([
    ['127.0.0.1', 'loopback address'],
    ['127.255.255.254', 'loopback address'],
    ['::1', 'loopback address'],
    ['10.1.2.3', 'private address'],
    ['172.16.0.1', 'private address'],
    ['172.31.255.255', 'private address'],
    ['192.168.1.1', 'private address'],
    ['fc00::1', 'unique local address'],
    ['fd12:3456::1', 'unique local address'],
    ['169.254.1.1', 'link-local address'],
    ['fe80::1', 'link-local address'],
    ['fe80::1%eth0', 'link-local address'],
    ['100.64.0.1', 'carrier-grade NAT address'],
    ['100.127.255.255', 'carrier-grade NAT address'],
  ])('refuses %s (%s) by default, allows it with allowPrivateTargets', (address, reason) => {
    expect(reasonOf(strict, address)).toBe(reason);
    expect(lan.check(address)).toEqual({ allowed: true });
  });

  it.each([
    ['169.254.169.254', 'cloud metadata address'],
    ['fd00:ec2::254', 'cloud metadata address'],
    ['0.0.0.0', 'unspecified ("this network") address'],
    ['0.1.2.3', 'unspecified ("this network") address'],
    ['::', 'unspecified address'],
    ['224.0.0.1', 'multicast address'],
    ['239.255.255.250', 'multicast address'],
    ['ff02::1', 'multicast address'],
    ['240.0.0.1', 'reserved or broadcast address'],
    ['255.255.255.255', 'reserved or broadcast address'],
    ['192.0.2.10', 'documentation address'],
    ['2001:db8::5', 'documentation address'],
  ])('refuses %s (%s) even with allowPrivateTargets', (address, reason) => {
    expect(reasonOf(strict, address)).toBe(reason);
    expect(reasonOf(lan, address)).toBe(reason);
  });

  it('keeps the edges of the ranges right', () => {
    for (const address of [
      '172.15.255.255',
      '172.32.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '11.0.0.0',
      '223.255.255.255',
      '128.0.0.1',
    ])
      expect(strict.check(address)).toEqual({ allowed: true });
    expect(reasonOf(strict, 'fbff::1')).toBeUndefined();
    expect(reasonOf(strict, 'fec0::1')).toBe('site-local (deprecated) address');
  });

  it('judges IPv4 embedded in IPv6 as the IPv4 address it reaches', () => {
    expect(reasonOf(strict, '::ffff:127.0.0.1')).toBe('loopback address (IPv4-mapped of 127.0.0.1)');
    expect(reasonOf(strict, '::ffff:7f00:1')).toBe('loopback address (IPv4-mapped of 127.0.0.1)');
    expect(reasonOf(strict, '::FFFF:a9fe:a9fe')).toBe(
      'cloud metadata address (IPv4-mapped of 169.254.169.254)',
    );
    expect(reasonOf(strict, '::ffff:10.0.0.1')).toBe('private address (IPv4-mapped of 10.0.0.1)');
    expect(reasonOf(strict, '64:ff9b::192.168.0.1')).toBe('private address (NAT64 of 192.168.0.1)');
    expect(reasonOf(strict, '64:ff9b::7f00:1')).toBe('loopback address (NAT64 of 127.0.0.1)');
    expect(reasonOf(strict, '2002:7f00:1::1')).toBe('loopback address (6to4 of 127.0.0.1)');
    // Teredo: the client's address is the last 32 bits, inverted (127.0.0.1 -> 80ff:fffe).
    expect(reasonOf(strict, '2001:0:4136:e378:8000:63bf:80ff:fffe')).toBe(
      'loopback address (Teredo of 127.0.0.1)',
    );
    expect(strict.check('::ffff:8.8.8.8')).toEqual({ allowed: true });
    expect(strict.check('64:ff9b::808:808')).toEqual({ allowed: true });
    expect(lan.check('::ffff:127.0.0.1')).toEqual({ allowed: true });
    expect(reasonOf(lan, '::ffff:169.254.169.254')).toMatch(/^cloud metadata/);
  });

  it('refuses the deprecated IPv4-compatible form and anything that is not an address', () => {
    expect(reasonOf(strict, '::127.0.0.1')).toBe('IPv4-compatible (deprecated) address');
    expect(reasonOf(lan, 'localhost')).toBe('not an IP address');
    expect(refusedRangeOf('')).toEqual({ reason: 'not an IP address', private: false });
  });
});

describe('ipv6Hextets', () => {
  it('expands every notation to eight groups', () => {
    expect(ipv6Hextets('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Hextets('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Hextets('fe80::')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Hextets('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ipv6Hextets('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(ipv6Hextets('1:2:3:4:5:6:1.2.3.4')).toEqual([1, 2, 3, 4, 5, 6, 0x0102, 0x0304]);
    expect(ipv6Hextets('fe80::1%eth0')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
  });
});
