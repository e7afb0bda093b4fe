import { describe, expect, it } from 'vitest';
import { classifyLiteral, parseIPv4, parseIPv6 } from './addresses.js';

describe('parseIPv4', () => {
  it.each([
    ['127.0.0.1', [127, 0, 0, 1]],
    ['2130706433', [127, 0, 0, 1]],
    ['0x7f000001', [127, 0, 0, 1]],
    ['017700000001', [127, 0, 0, 1]],
    ['0x7f.1', [127, 0, 0, 1]],
    ['127.1', [127, 0, 0, 1]],
    ['0177.0.0.01', [127, 0, 0, 1]],
    ['10.0x10.020', [10, 16, 0, 16]],
    ['169.254.169.254.', [169, 254, 169, 254]],
  ])('reads %s', (text, bytes) => {
    expect(parseIPv4(text)).toEqual(bytes);
  });

  it.each(['256.0.0.1', '1.2.3.4.5', '4294967296', '08.0.0.1', 'example.com', '1..2', ''])('rejects %s', (text) => {
    expect(parseIPv4(text)).toBeNull();
  });
});

describe('parseIPv6', () => {
  it('expands :: and a dotted IPv4 tail', () => {
    expect([...(parseIPv6('::1') ?? [])]).toEqual([...Array<number>(15).fill(0), 1]);
    expect([...(parseIPv6('::ffff:127.0.0.1') ?? [])].slice(10)).toEqual([0xff, 0xff, 127, 0, 0, 1]);
    expect([...(parseIPv6('fe80::1:2') ?? [])].slice(0, 2)).toEqual([0xfe, 0x80]);
  });

  it.each(['1::2::3', '12345::', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', '::ffff:1.2.3'])('rejects %s', (text) => {
    expect(parseIPv6(text)).toBeNull();
  });
});

describe('classifyLiteral', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['0x7f.0.0.1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.10.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['2852039166', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['224.0.0.251', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['fe80::abcd', 'link-local'],
    ['fc00::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a00:1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['2002:c0a8:0101::1', 'private'],
    ['::10.0.0.1', 'private'],
    ['::8.8.8.8', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['example.com', null],
  ])('classifies %s as %s', (host, cls) => {
    expect(classifyLiteral(host)).toBe(cls);
  });
});
