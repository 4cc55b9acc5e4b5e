/**
 * Keyset paging as the Messages page walks it: the API answers `next_cursor` with each page; going back
 * needs the cursors that led to the earlier pages, kept here as a stack (the first page's is null).
 */
export interface CursorTrail {
  /** Cursors of the pages shown so far, the current one last; the first page has none. */
  readonly trail: ReadonlyArray<string | null>;
}

export const firstPage = (): CursorTrail => ({ trail: [null] });

export const currentCursor = (paging: CursorTrail): string | null => paging.trail[paging.trail.length - 1];

export const pageNumber = (paging: CursorTrail): number => paging.trail.length;

/** The next page, given the current page's `next_cursor` (null: there is none, nothing changes). */
export function nextPage(paging: CursorTrail, nextCursor: string | null): CursorTrail {
  return nextCursor === null ? paging : { trail: [...paging.trail, nextCursor] };
}

export function previousPage(paging: CursorTrail): CursorTrail {
  return paging.trail.length > 1 ? { trail: paging.trail.slice(0, -1) } : paging;
}

export const hasPrevious = (paging: CursorTrail): boolean => paging.trail.length > 1;
