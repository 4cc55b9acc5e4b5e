import { randomBytes } from 'node:crypto';
import { placeholderProblem, weakSecretProblem } from './secret-strength';

describe('secret strength', () => {
  it('accepts generated secrets of 32 characters and more, every time', () => {
    for (let i = 0; i < 2_000; i++) {
      expect(weakSecretProblem(randomBytes(16).toString('hex'))).toBeUndefined();
      expect(weakSecretProblem(randomBytes(24).toString('base64'))).toBeUndefined();
      expect(weakSecretProblem(randomBytes(32).toString('hex'))).toBeUndefined();
    }
  });

  it.each([
    ['change-me-to-32-random-characters', /placeholder/],
    ['ChangeMe0123456789abcdef0123456789', /placeholder/],
    ['my-super-secret-token-secret-value-1', /placeholder/],
    ['0123456789abcdef', /too short/],
    ['abcdabcdabcdabcdabcdabcdabcdabcdabcd', /repeats/],
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab', /repeats|different characters/],
    ['aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd', /different characters/],
  ])('refuses %s', (value, problem) => {
    expect(weakSecretProblem(value)).toMatch(problem);
  });

  it('knows the usual placeholders of passwords', () => {
    expect(placeholderProblem('change-me')).toBeDefined();
    expect(placeholderProblem('smsfleet')).toBeDefined();
    expect(placeholderProblem('k3Jq9sLw0pQ')).toBeUndefined();
  });
});
