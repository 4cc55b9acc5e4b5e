import type { FastifyHelmetOptions } from '@fastify/helmet';

/**
 * Security headers (helmet) of every answer of the API, /docs and /admin/queues: no framing, no MIME
 * sniffing, HSTS (effective behind the TLS proxy), no referrer, and a CSP that lets the two UIs run —
 * their scripts are files of this origin; both put inline styles, and images as data: URIs.
 */
export const SECURITY_HEADERS: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  hsts: { maxAge: 31_536_000, includeSubDomains: true },
};
