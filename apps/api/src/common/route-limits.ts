/** Request bodies of ordinary routes. */
export const DEFAULT_BODY_LIMIT = 1_048_576;
/** `addalotofsms`: 10,000 items of up to 4 KB bodies, in any encoding. */
export const BULK_BODY_LIMIT = 48 * 1_048_576;
/** Routes whose bodies may be larger than the default. */
export const LARGE_BODY_ROUTES: ReadonlySet<string> = new Set(['/getdata/addalotofsms']);
