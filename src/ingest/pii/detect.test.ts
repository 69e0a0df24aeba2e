import { describe, expect, it } from 'vitest';
import { redactText } from './detect.js';
import { isCardNumber, luhnValid } from './luhn.js';

// Real-looking personal data, each as a whole value and inside a sentence.
const PII: [string, string][] = [
  ['bob.smith@example.com', 'email'],
  ['MARIA.garcia+news@correo.example.es', 'email'],
  ["o'brien@mail.example.ie", 'email'],
  ['10.0.0.1', 'ip'],
  ['192.168.1.254', 'ip'],
  ['8.8.8.8', 'ip'],
  ['2001:db8::1', 'ip'],
  ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', 'ip'],
  ['::ffff:192.0.2.1', 'ip'],
  ['fe80::1ff:fe23:4567:890a', 'ip'],
  ['4111111111111111', 'card'],
  ['4111 1111 1111 1111', 'card'],
  ['5500-0000-0000-0004', 'card'],
  ['378282246310005', 'card'],
  ['3782 822463 10005', 'card'],
  ['6011111111111117', 'card'],
  ['+1 (555) 123-4567', 'phone'],
  ['+15551234567', 'phone'],
  ['+44 20 7946 0958', 'phone'],
  ['+49 30 12345678', 'phone'],
  ['+33 6 12 34 56 78', 'phone'],
  ['+54 9 11 2345-6789', 'phone'],
  ['(555) 123-4567', 'phone'],
  ['555-123-4567', 'phone'],
  ['555.123.4567', 'phone'],
  ['020 7946 0958', 'phone'],
  ['07946 095812', 'phone'],
  ['06 12 34 56 78', 'phone'],
  ['011 4567-8901', 'phone'],
];

// Values that look like the above and must pass untouched.
const LOOK_ALIKES = [
  '1.2.3.4-beta',
  'v1.2.3.4',
  '10.0.0',
  '2.4.1',
  '1.0.0-rc.1+build.5',
  '3.12.0+20240115',
  '2024.01.15',
  '2024-01-15',
  '15/01/2024',
  '2023-10-15 14:35:22',
  '2023-10-15T14:35:22Z',
  '2023-10-15T14:35:22.123+02:00',
  '14:35:22',
  '550e8400-e29b-41d4-a716-446655440000',
  '01ARZ3NDEKTSV4RRFFQ69G5FAV',
  '01HZX3K8Q9V2C7M4N6B5T1R0YW',
  '1234567890123',
  '4111111111111112',
  '9007199254740993',
  '1700000000000',
  '1234567890123456789',
  'search.v2',
  'feature_recommendations',
  'evt_12345',
  'd41d8cd98f00b204e9800998ecf8427e',
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709',
  '/pos/checkout?step=2',
  'std::vector',
  'a:b:c',
  '00:1A:2B:3C:4D:5E',
  '@scope/package',
  'user@',
  '+1',
  '+02:00',
  '555-1234',
  '1 2 3 4 5 6 7 8 9 1 2 3 4 5 6 7 8 9',
  'duration 45s, 3 retries, 120 ms',
];

describe('redactText: personal data', () => {
  it.each(PII)('%s is redacted as %s, alone and inside text', (value, kind) => {
    expect(redactText(value)).toEqual({ text: `[redacted:${kind}]`, kinds: [kind] });
    expect(redactText(`contact: ${value}, thanks`)).toEqual({
      text: `contact: [redacted:${kind}], thanks`,
      kinds: [kind],
    });
  });

  it('finds every item in one text, next to numbers that are not', () => {
    expect(redactText('call 12 4111 1111 1111 1111 or +1 555 123 4567 42 from 10.1.2.3:8080').text).toBe(
      'call 12 [redacted:card] or [redacted:phone] 42 from [redacted:ip]:8080',
    );
  });
});

describe('redactText: look-alikes', () => {
  it.each(LOOK_ALIKES)('%s is left as it is', (value) => {
    expect(redactText(value)).toEqual({ text: value, kinds: [] });
  });
});

describe('Luhn', () => {
  it('accepts test card numbers and refuses one digit off', () => {
    for (const n of ['4111111111111111', '5500000000000004', '378282246310005', '6011111111111117']) {
      expect(luhnValid(n)).toBe(true);
      const last = Number(n.at(-1));
      expect(luhnValid(`${n.slice(0, -1)}${(last + 1) % 10}`)).toBe(false);
    }
  });

  it('takes card numbers as 13 to 19 digits starting 2 to 6', () => {
    expect(isCardNumber('4222222222222')).toBe(true); // 13-digit Visa
    expect(isCardNumber('1000000000009')).toBe(false); // Luhn-valid, but starts with 1 (an epoch-ms shape)
    expect(isCardNumber('42424242424')).toBe(false); // too short
  });
});
