import { currentCursor, firstPage, hasPrevious, nextPage, pageNumber, previousPage } from './paging';

describe('keyset paging trail (Messages page)', () => {
  it('starts on page 1 without a cursor and no way back', () => {
    const paging = firstPage();
    expect([currentCursor(paging), pageNumber(paging), hasPrevious(paging)]).toEqual([null, 1, false]);
  });

  it('goes forward with each page’s next_cursor and back along the same cursors', () => {
    let paging = nextPage(firstPage(), 'c1');
    paging = nextPage(paging, 'c2');
    expect([currentCursor(paging), pageNumber(paging)]).toEqual(['c2', 3]);
    paging = previousPage(paging);
    expect([currentCursor(paging), pageNumber(paging), hasPrevious(paging)]).toEqual(['c1', 2, true]);
    paging = previousPage(previousPage(paging));
    expect([currentCursor(paging), pageNumber(paging)]).toEqual([null, 1]);
  });

  it('stays on the last page when there is no next cursor', () => {
    const last = nextPage(firstPage(), 'c1');
    expect(nextPage(last, null)).toBe(last);
  });
});
