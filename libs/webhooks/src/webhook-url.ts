import { isIP } from 'node:net';
import { InvalidInput } from '@smsfleet/validation';

/** Longest subscription URL accepted: enough for any real endpoint with a query token, small to store. */
export const WEBHOOK_URL_MAX_LENGTH = 2048;

/** A subscription URL that passed every check, split into what a delivery needs. */
export interface WebhookUrl {
  /** The URL as the WHATWG parser normalised it (punycode host, default port dropped). */
  href: string;
  protocol: 'http:' | 'https:';
  /** Host name or IP literal, without the brackets of an IPv6 literal. */
  hostname: string;
  /** The port connected to: the explicit one, or 80/443. */
  port: number;
  /** 4 or 6 when the host is an IP literal (checked against the address policy before any DNS), else 0. */
  ipFamily: 0 | 4 | 6;
  /** Path and query, as sent in the request line. */
  path: string;
}

// Control characters and whitespace anywhere: the WHATWG parser silently drops tabs and newlines and trims
// the ends, so a URL that "contains" them would be stored as something other than what the user wrote.
// eslint-disable-next-line no-control-regex -- control characters are exactly what this pattern is for
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u009f\u2028\u2029]/;

/**
 * Parses and validates a subscription URL. Throws InvalidInput naming `field`, with a message fit for the
 * API's validation error; the message never echoes the value (it may hold a token in its query).
 * Whether the host's addresses may be delivered to is decided at delivery time (address-policy.ts), since
 * DNS can change; an IP literal can be checked at once by the caller through `ipFamily`.
 */
export function parseWebhookUrl(value: unknown, field = 'url'): WebhookUrl {
  if (typeof value !== 'string') throw new InvalidInput(field, `${field} must be text`);
  if (value.length === 0) throw new InvalidInput(field, `${field} is required`);
  if (value.length > WEBHOOK_URL_MAX_LENGTH)
    throw new InvalidInput(
      field,
      `${field} is too long (${value.length} characters, at most ${WEBHOOK_URL_MAX_LENGTH})`,
    );
  if (CONTROL_OR_SPACE.test(value))
    throw new InvalidInput(
      field,
      `${field} may not contain spaces or control characters (percent-encode them)`,
    );
  if (!/^https?:\/\//i.test(value))
    throw new InvalidInput(field, `${field} must be an absolute http:// or https:// URL`);

  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInput(field, `${field} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidInput(field, `${field} must be an absolute http:// or https:// URL`);
  if (url.username !== '' || url.password !== '')
    throw new InvalidInput(
      field,
      `${field} may not contain a user name or password (authenticate with the signature instead)`,
    );
  if (url.hash !== '' || value.includes('#'))
    throw new InvalidInput(field, `${field} may not contain a fragment (#…): it is never sent to the server`);
  if (url.hostname === '') throw new InvalidInput(field, `${field} has no host`);
  if (url.href.length > WEBHOOK_URL_MAX_LENGTH)
    throw new InvalidInput(field, `${field} is too long once normalised (at most ${WEBHOOK_URL_MAX_LENGTH})`);

  const protocol = url.protocol;
  const port = url.port === '' ? (protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (port === 0) throw new InvalidInput(field, `${field} has port 0, which cannot be connected to`);
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const family = isIP(hostname);
  return {
    href: url.href,
    protocol,
    hostname,
    port,
    ipFamily: family === 4 || family === 6 ? family : 0,
    path: `${url.pathname}${url.search}`,
  };
}
