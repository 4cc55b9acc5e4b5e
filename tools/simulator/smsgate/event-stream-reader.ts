/**
 * Reads a Server-Sent Events stream as OkHttp's reader does (the app's SSE client): `event:` names the
 * event, `data:` lines are joined, a blank line dispatches it if it has data, `:` lines are comments.
 */
export class EventStreamReader {
  private buffer = '';
  private type: string | null = null;
  private data: string[] = [];

  constructor(private readonly onEvent: (type: string | null, data: string) => void) {}

  push(text: string): void {
    this.buffer += text;
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + (this.buffer.startsWith('\r\n', newline) ? 2 : 1));
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.onEvent(this.type, this.data.join('\n'));
      this.type = null;
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
  }
}
