/** Request bodies of ordinary routes. */
export const DEFAULT_BODY_LIMIT = 1_048_576;
/**
 * Most API_BULK_BODY_LIMIT_BYTES may allow: 10,000 items of up to 4 KB bodies, in any encoding. A body is
 * parsed whole on the event loop (about 0.3 s per 40 MB on an idle core, as long again to free), so the
 * default (config) is 16 MB, what the Kubernetes example's ingress lets through anyway.
 */
export const MAX_BULK_BODY_LIMIT = 48 * 1_048_576;
/** Routes whose bodies may be larger than the default. */
export const LARGE_BODY_ROUTES: ReadonlySet<string> = new Set(['/getdata/addalotofsms']);
/** Routes that take an image as the multipart file `file`. */
export const FILE_ROUTES: ReadonlySet<string> = new Set(['/getdata/addsms', '/getdata/smstosend']);

/** What a multipart body of a route may hold; busboy's limits plus the total we count ourselves. */
export interface MultipartLimits {
  /** Bytes of the whole body, counted as they arrive (and checked against Content-Length first). */
  total: number;
  /** Bytes of one field's value; a longer value is refused, not truncated. */
  fieldSize: number;
  fields: number;
  files: number;
  fileSize: number;
  /**
   * A part typed `application/json` without a file name is read as a text field (the bulk route):
   * @fastify/multipart otherwise parses such a part itself, before the route's limits count its text.
   */
  jsonPartsAsText: boolean;
}

export interface BodyLimits {
  /** JSON and urlencoded bodies (Fastify's bodyLimit for the route). */
  body: number;
  multipart: MultipartLimits;
}

/** No field of ours needs more: the longest is `body` (MESSAGE_MAX_BODY_LENGTH characters of UTF-8). */
const MIN_FIELD_SIZE = 65_536;
/** Every parameter a route reads, its aliases and some slack; more is not a real client. */
const MAX_FIELDS = 40;
/** The bulk route reads `datajson` (or `smsdata`) and the credentials beside it. */
const MAX_BULK_FIELDS = 8;

/**
 * The body limits of a route (its path as the router names it, e.g. `/getdata/addsms`; unknown paths get
 * the ordinary ones). `maxBodyLength` is MESSAGE_MAX_BODY_LENGTH (UTF-16 units: at most 3 bytes of UTF-8
 * each), `maxUploadBytes` UPLOAD_MAX_BYTES, `bulkBodyLimit` API_BULK_BODY_LIMIT_BYTES.
 */
export function bodyLimitsOf(
  route: string | undefined,
  maxBodyLength: number,
  maxUploadBytes: number,
  bulkBodyLimit: number,
): BodyLimits {
  const fieldSize = Math.max(MIN_FIELD_SIZE, 3 * maxBodyLength);
  if (route !== undefined && LARGE_BODY_ROUTES.has(route))
    return {
      body: bulkBodyLimit,
      multipart: {
        total: bulkBodyLimit,
        fieldSize: bulkBodyLimit,
        fields: MAX_BULK_FIELDS,
        files: 0,
        fileSize: 0,
        jsonPartsAsText: true,
      },
    };
  const withFile = route !== undefined && FILE_ROUTES.has(route);
  return {
    body: DEFAULT_BODY_LIMIT,
    multipart: {
      total: DEFAULT_BODY_LIMIT + (withFile ? maxUploadBytes : 0),
      fieldSize,
      fields: MAX_FIELDS,
      files: withFile ? 1 : 0,
      fileSize: withFile ? maxUploadBytes : 0,
      jsonPartsAsText: false,
    },
  };
}
